"""A week of the term on a running hub, end to end (issue 22, point 6): the lecturer releases lesson
03's assignment; alice and bob log in through the login page, fetch it through nbgrader's Assignments
API (as JupyterLab's panel does), alice answers every exercise right and bob half; alice submits
before the due date, bob after it; a third submission forged by alice under bob's name is set aside;
the lecturer lists the submissions, autogrades them in the sandbox and returns the feedback; the
gradebook has the expected points and late marks; each student finds their feedback in their folder.

Runs as root with an account per student (as CI does), on the runtime named by LENET_HUB_RUNTIME,
with an exchange of its own. A missing proxy, runtime, nbgrader or assignment is a FAILURE, never
a skip. The flow itself is benchmarks/term_e2e.py's ``run_week`` (which also times it for the docs).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "hub"))
import term_e2e  # noqa: E402
from hub_load import start_hub, stop_hub  # noqa: E402

pytestmark = pytest.mark.slow
PROXY = REPO / "hub" / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"


@pytest.fixture(scope="module")
def prerequisites(mnist_ready):
    if os.geteuid() != 0:
        pytest.fail("the term's end-to-end test runs as root (one account per student, as CI does)", pytrace=False)
    if not PROXY.is_file():
        pytest.fail(f"configurable-http-proxy is missing at {PROXY}: run `make hub-proxy`", pytrace=False)
    import runtime

    problem = runtime.check(runtime.DEFAULT)
    if problem:
        pytest.fail(problem, pytrace=False)
    if not (runtime.DEFAULT / "venv" / "bin" / "nbgrader").is_file():
        pytest.fail(f"nbgrader is missing from the students' runtime {runtime.DEFAULT}: run `make hub-runtime`",
                    pytrace=False)
    if not sorted(term_e2e.SOURCE.glob("*.ipynb")):
        pytest.fail(f"no source assignment in {term_e2e.SOURCE}: run `make assignments`", pytrace=False)


@pytest.fixture(scope="module")
def week(tmp_path_factory, prerequisites):
    exchange = term_e2e.exchange_for_a_run()
    hub = start_hub(tmp_path_factory.mktemp("term-e2e") / "state", env={"LENET_HUB_EXCHANGE": str(exchange)})
    try:
        yield hub, term_e2e.run_week(hub), exchange
    finally:
        stop_hub(hub, everything=True)
        shutil.rmtree(exchange.parent, ignore_errors=True)


def totals(rows, student):
    mine = [r for r in rows if r["student"] == student]
    return sum(float(r["points"]) for r in mine), sum(float(r["max_points"]) for r in mine), {r["late"] for r in mine}


def test_the_released_assignment_is_listed_and_fetched_without_solutions(week):
    hub, w, exchange = week
    assert ("lesson03", "released") in w["listed_before_fetch"]
    for name in ("alice", "bob"):
        fetched = [a for a in w["fetch"][name]["value"] if a["assignment_id"] == "lesson03"]
        assert fetched and fetched[0]["status"] == "fetched", w["fetch"][name]
        nb = (hub.home(name) / "notebooks" / "lesson03" / "03_training.ipynb").read_text()
        assert "BEGIN SOLUTION" not in nb and "HIDDEN TESTS" not in nb
    out = (exchange / "lenet" / "outbound" / "lesson03" / "03_training.ipynb").read_text()
    assert "BEGIN SOLUTION" not in out and "HIDDEN TESTS" not in out


def test_both_submissions_reach_the_lecturer_the_late_one_marked_not_lost(week):
    hub, w, _ = week
    lines = w["submissions"].splitlines()
    assert lines[0].startswith("lesson03: 2 student(s), 2 submission(s)")
    alice = [ln for ln in lines if f"{hub.prefix}alice" in ln]
    bob = [ln for ln in lines if f"{hub.prefix}bob" in ln]
    assert len(alice) == len(bob) == 1
    assert "on time" in alice[0] and "LATE" in bob[0] and "(counts)" in bob[0]


def test_the_gradebook_has_the_expected_points(week):
    hub, w, _ = week
    rows = w["gradebook"]
    assert {r["exercise"] for r in rows} == {"total_steps", "train_step", "warmup_steps"}
    a_points, a_max, a_late = totals(rows, f"{hub.prefix}alice")
    b_points, b_max, b_late = totals(rows, f"{hub.prefix}bob")
    assert (a_points, a_max) == w["expected"]["alice"] == (4.0, 4.0)
    assert (b_points, b_max) == w["expected"]["bob"] == (2.0, 4.0)
    assert a_late == {"no"} and b_late == {"yes"}
    for r in rows:
        if r["student"].endswith("bob") and r["exercise"] == "train_step":
            assert float(r["points"]) == 0 and r["message"]


def test_feedback_reaches_each_students_folder(week):
    hub, w, _ = week
    for name, score in (("alice", "4 / 4"), ("bob", "2 / 4")):
        st = w["students"][name]
        r = st.server_api("GET", "contents/feedback/lesson03/03_training.html")
        assert r.status_code == 200, (name, r.status_code)
        assert score in r.json()["content"]
        page = hub.home(name) / "notebooks" / "feedback" / "lesson03" / "03_training.html"
        assert page.stat().st_uid == hub.home(name).stat().st_uid  # written as the student


def test_a_submission_forged_under_another_students_name_is_set_aside(week):
    """nbgrader names a submission after $LOGNAME/$USER or --student, which a student sets: alice
    submits as bob."""
    hub, w, exchange = week
    alice = w["students"]["alice"]
    session = alice.open_session("lesson03/03_training.ipynb")
    k = alice.kernel(session["kernel"]["id"])
    try:
        bob = hub.prefix + "bob"
        code = ("import os, subprocess\n"
                f"env = dict(os.environ, USER={bob!r}, LOGNAME={bob!r})\n"
                f"r = subprocess.run(['nbgrader', 'submit', 'lesson03', '--student', {bob!r}],"
                " cwd=os.path.expanduser('~/notebooks'), env=env, capture_output=True, text=True)\n"
                "print(r.returncode, r.stderr[-300:])")
        out, err = k.execute(code)
        assert err is None, err
        assert out.startswith("0"), out
    finally:
        k.close()
    inbound = exchange / "lenet" / "inbound"
    bobs = [p for p in inbound.iterdir() if p.name.startswith(hub.prefix + "bob+")]
    assert len(bobs) == 2  # nbgrader let it in: bob's own and alice's forgery
    r = term_e2e.lecturer(hub, "submissions", "03")
    assert r.returncode == 0 and "set aside" in r.stdout and f"'{hub.prefix}bob'" in r.stdout, r.stdout
    import pwd

    import term

    kept, problems = term.submissions(exchange, "lesson03", hub.prefix)
    counted = [s for s in kept if s.student == hub.prefix + "bob"]
    assert len(counted) == 1 and counted[0].folder.stat().st_uid == pwd.getpwnam(hub.prefix + "bob").pw_uid
    assert len(problems) == 1 and "made by uid" in problems[0]
