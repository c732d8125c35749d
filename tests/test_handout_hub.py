"""The term on a running hub with an account per student: the first hand-out has no solutions and no
student can read one anywhere; the lecturer changes lesson 03 after alice (who edited it) and bob
(who did not) started; on their next start alice keeps her work with the new version beside it and
bob gets the new version; ``launch.py release-solutions 03`` puts lesson 03's solutions read-only
into every student's folder at once, and into a later student's at their first start.

Runs as root (as CI does), on the runtime named by LENET_HUB_RUNTIME. A missing proxy, runtime or
MNIST is a FAILURE, never a skip. The merge rules themselves: tests/test_handout.py.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "hub"))
from hub_load import Student, admit, start_hub, stop_hub  # noqa: E402
from hub_prereqs import require_hub  # noqa: E402

pytestmark = pytest.mark.slow
PROBE = """
import errno as _errno, json as _json, os as _os
def _try(f):
    try:
        return {"ok": True, "value": repr(f())[:200]}
    except OSError as e:
        return {"ok": False, "errno": _errno.errorcode.get(e.errno, str(e.errno))}
def _readable_solutions(roots, skip=("venv", "node_modules")):
    found = []
    for root in roots:
        for d, dirs, files in _os.walk(root, onerror=lambda e: None):
            dirs[:] = [x for x in dirs if x not in skip]
            for f in files:
                p = _os.path.join(d, f)
                if f.endswith(".solutions.ipynb") and _os.access(p, _os.R_OK):
                    found.append(p)
    return found
"""


def runtime_dir() -> Path:
    import runtime

    return runtime.DEFAULT


@pytest.fixture(scope="module")
def prerequisites(mnist_ready):
    require_hub("the hub's term tests")


@pytest.fixture(scope="module")
def course():
    """The course the hub hands out: a copy of the runtime's, in a folder every account can read,
    that this test changes as a lecturer changes the course during the term."""
    folder = Path(tempfile.mkdtemp(prefix="lenet-term-course-"))
    folder.chmod(0o755)
    for f in (runtime_dir() / "course" / "notebooks").iterdir():
        if f.is_file():
            shutil.copyfile(f, folder / f.name)
            (folder / f.name).chmod(0o644)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def hub(tmp_path_factory, prerequisites, course):
    h = start_hub(tmp_path_factory.mktemp("term") / "state", env={"LENET_HUB_COURSE": str(course)})
    try:
        yield h
    finally:
        stop_hub(h, everything=True)


def alices_kernel(alice: Student):
    """A kernel of alice's (a new one after each restart of her server), with PROBE's helpers."""
    session = alice.open_session("01_mnist_data.ipynb")
    k = alice.kernel(session["kernel"]["id"])
    out, err = k.execute(PROBE)
    assert err is None, err
    return k


@pytest.fixture(scope="module")
def room(hub):
    lecturer, (alice, bob) = admit(hub, ["alice", "bob"])
    for st in (alice, bob):
        st.start_server()
    room = {"lecturer": lecturer, "alice": alice, "bob": bob, "k": alices_kernel(alice)}
    yield room
    room["k"].close()


def probe(room, expr: str):
    out, err = room["k"].execute(f"print(_json.dumps({expr}))")
    assert err is None, err
    return json.loads(out.strip().splitlines()[-1])


def restart(student: Student) -> None:
    r = student.api("DELETE", f"users/{student.name}/server")
    assert r.status_code in (202, 204), r.text
    deadline = time.monotonic() + 60
    while student.api("GET", f"users/{student.name}").json().get("servers"):
        assert time.monotonic() < deadline, f"{student.name}'s server did not stop"
        time.sleep(0.5)
    student.start_server()


def contents(student: Student, path: str) -> dict:
    r = student.server_api("GET", f"contents/{path}")
    assert r.status_code == 200, f"{student.name} {path}: HTTP {r.status_code}"
    return r.json()


def names(student: Student, path: str = "") -> set[str]:
    return {c["name"] for c in contents(student, path)["content"]}


# ---- the first hand-out ---------------------------------------------------------------------------
def test_the_first_hand_out_has_every_lesson_and_no_solution(hub, room, course):
    got = names(room["alice"])
    lessons = {f.name for f in course.glob("*.ipynb") if not f.name.endswith(".solutions.ipynb")}
    assert lessons and lessons <= got
    assert not [n for n in got if "solution" in n]
    home = hub.home("alice")
    manifest = home / ".lenet-handout.json"
    assert manifest.is_file() and manifest.stat().st_uid == home.stat().st_uid != 0  # written as alice
    assert (home / "notebooks" / "03_training.ipynb").stat().st_uid == home.stat().st_uid


def test_before_the_release_no_student_can_read_a_solution_anywhere(hub, room):
    rt = runtime_dir()
    solutions = rt / "solutions"
    assert sorted(p.name for p in solutions.iterdir())  # there are some, root's alone
    assert oct(solutions.stat().st_mode)[-3:] == "700" and solutions.stat().st_uid == 0
    one = sorted(solutions.iterdir())[0]
    for expr in (f"open({str(one)!r}, 'rb').read()", f"_os.listdir({str(solutions)!r})",
                 f"open({str(REPO / 'notebooks' / one.name)!r}, 'rb').read()"):
        r = probe(room, f"_try(lambda: {expr})")
        assert not r["ok"] and r["errno"] == "EACCES", (expr, r)
    roots = [str(rt), str(REPO), "/home", str(hub.state), "/var/lib/lenet-hub"]
    assert probe(room, f"_readable_solutions({roots!r})") == []
    # git's objects hold every version of the solutions: not readable either
    common = subprocess.run(["git", "rev-parse", "--git-common-dir"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip()
    r = probe(room, f"_try(lambda: _os.listdir({str((REPO / common).resolve() / 'objects')!r}))")
    assert not r["ok"] and r["errno"] == "EACCES", r


# ---- an update during the term ---------------------------------------------------------------------
def test_a_lesson_changed_after_two_students_started_reaches_both_without_losing_alices_work(hub, room, course):
    alice, bob = room["alice"], room["bob"]
    nb = contents(alice, "03_training.ipynb")["content"]
    nb["cells"].insert(0, {"cell_type": "markdown", "metadata": {}, "source": "alice's own notes"})
    r = alice.server_api("PUT", "contents/03_training.ipynb", json={"type": "notebook", "format": "json",
                                                                   "content": nb})
    assert r.status_code == 200, r.text
    # the lecturer fixes lesson 03 (a new first cell) while both have started
    lesson = json.loads((course / "03_training.ipynb").read_text())
    lesson["cells"].insert(0, {"cell_type": "markdown", "metadata": {}, "id": "lecturer-fix",
                               "source": "Erratum: the learning rate in 3.2 is 0.01."})
    (course / "03_training.ipynb").write_text(json.dumps(lesson, indent=1))
    new = (course / "03_training.ipynb").read_bytes()

    room["k"].close()
    restart(alice)
    restart(bob)
    room["k"] = alices_kernel(alice)
    day = dt.date.today().isoformat()
    a_home, b_home = hub.home("alice") / "notebooks", hub.home("bob") / "notebooks"
    # alice: her edit kept, the new version beside it, told in UPDATES.md
    mine = json.dumps(contents(alice, "03_training.ipynb")["content"])
    assert "alice's own notes" in mine and "Erratum" not in mine
    beside = f"03_training.updated-{day}.ipynb"
    assert (a_home / beside).read_bytes() == new
    assert "Erratum" in json.dumps(contents(alice, beside)["content"])
    note = contents(alice, "UPDATES.md")["content"]
    assert "03_training.ipynb" in note and beside in note
    # bob had not touched it: he has the new version, and nothing beside it
    assert (b_home / "03_training.ipynb").read_bytes() == new
    assert not [n for n in names(bob) if ".updated-" in n]
    assert "03_training.ipynb" in contents(bob, "UPDATES.md")["content"]
    # everything is still each student's own
    assert (a_home / beside).stat().st_uid == hub.home("alice").stat().st_uid
    room["updates"] = {"alice": {"kept": "03_training.ipynb", "beside": beside},
                       "bob": {"updated": "03_training.ipynb"}}


# ---- releasing solutions --------------------------------------------------------------------------
def _release(hub, *args):
    return subprocess.run([sys.executable, str(REPO / "hub" / "launch.py"), "release-solutions", *args,
                           "--state", str(hub.state)], cwd=REPO, capture_output=True, text=True, timeout=60)


def test_an_unknown_lesson_is_one_line_naming_the_lessons_that_have_solutions(hub, room):
    r = _release(hub, "99")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "no solutions for lesson '99'" in r.stderr and "03" in r.stderr


def test_released_solutions_appear_read_only_in_every_students_folder_at_once(hub, room):
    alice = room["alice"]
    assert "solutions" not in names(alice)
    r = _release(hub, "03")
    assert r.returncode == 0, r.stderr
    assert "copied into 2 student folder(s)" in r.stdout
    assert names(alice, "solutions") == {"03_training.solutions.ipynb"}  # at once, no restart
    assert names(room["bob"], "solutions") == {"03_training.solutions.ipynb"}
    path = hub.home("alice") / "notebooks" / "solutions" / "03_training.solutions.ipynb"
    st = path.stat()
    assert st.st_uid == 0 and oct(st.st_mode)[-3:] == "444"
    # alice reads it, cannot change, remove or replace it; other lessons' stay closed
    assert probe(room, f"_try(lambda: len(open({str(path)!r}, 'rb').read()))")["ok"]
    for expr in (f"open({str(path)!r}, 'ab')", f"_os.unlink({str(path)!r})",
                 f"_os.rename({str(path)!r}, {str(path) + '.x'!r})",
                 f"open({str(path.parent / 'mine.ipynb')!r}, 'w')"):
        r = probe(room, f"_try(lambda: {expr})")
        assert not r["ok"] and r["errno"] == "EACCES", (expr, r)
    other = sorted((runtime_dir() / "solutions").glob("01_*"))[0]
    r = probe(room, f"_try(lambda: open({str(other)!r}, 'rb').read())")
    assert not r["ok"] and r["errno"] == "EACCES"
    listed = _release(hub)
    assert listed.returncode == 0 and listed.stdout.startswith("released: 03;")


def test_a_student_who_starts_after_the_release_gets_the_solutions_at_the_first_start(hub, room):
    carol = Student(hub, "carol")
    carol.sign_up()
    room["lecturer"].approve("carol")
    carol.log_in()
    carol.start_server()
    assert names(carol, "solutions") == {"03_training.solutions.ipynb"}
    assert not [n for n in names(carol) if n.endswith(".solutions.ipynb")]
