"""Grading lesson 03 as a lecturer would: a class of simulated students, good and bad submissions,
graded once in the sandbox; the gradebook, the feedback and each bad submission's outcome checked."""

from __future__ import annotations

import copy
import csv
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from lenet_utils.data import SPLIT_SIZES
from lenet_utils.term import assignments as A
from lenet_utils.term import grading as G
from lenet_utils.term.sandbox import Limits

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "assignments" / "source" / "lesson03" / "03_training.ipynb"
NAME = SOURCE.name
DUE = datetime(2026, 12, 14, 23, 59, tzinfo=timezone.utc)
ON_TIME = DUE - timedelta(days=1)
LIMITS = Limits(cell_seconds=20, notebook_seconds=900)

WRONG = {
    "total_steps_answer": f"answer = 5 * ({SPLIT_SIZES['train']} // 256)",   # the last, smaller batch dropped
    "train_step_answer": ("def my_train_step(model, optimizer, x, y):\n    return model(x).sum()\n\n"
                          "answer = my_train_step"),
    "warmup_steps_answer": "answer = 130",                                  # the peak step counted too
}
TAMPER = ("from lenet_utils.lessons.exercises import _core\n"               # the scan sees this one
          "_core.Feedback.passed = property(lambda self: True)\nanswer = None")
TAMPER_QUIET = ("import lenet_utils.lessons.exercises as ex\n"             # no pattern the scan knows
                "ex.check_total_steps = lambda answer: ex.Feedback(True, 'ok')\n"
                "answer = 0")
TOUCH = Path("/tmp") / f"lenet-grade-test-{os.getpid()}"


def _source() -> dict:
    return json.loads(SOURCE.read_text())


def _student(answers: dict[str, str]) -> dict:
    """The student's copy with some answer cells filled in: the source's solution where the value is
    "right", the given code otherwise."""
    src = {A.nbgrader_meta(c)["grade_id"]: c for c in _source()["cells"] if A.nbgrader_meta(c).get("solution")}
    nb = A.student_version(_source())
    for cell in nb["cells"]:
        gid = A.nbgrader_meta(cell).get("grade_id")
        if gid in answers:
            cell["source"] = src[gid]["source"] if answers[gid] == "right" else answers[gid]
    return nb


def _submit(inbound: Path, tmp: Path, student: str, nb: dict | str, when: datetime) -> None:
    path = tmp / student / NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nb if isinstance(nb, str) else json.dumps(nb))
    G.submit(inbound, student, "lesson03", path, when)


ALL_RIGHT = {gid: "right" for gid in WRONG}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("course")
    inbound = tmp / "inbound"
    _submit(inbound, tmp, "alice", _student(ALL_RIGHT), ON_TIME)
    _submit(inbound, tmp, "bob", _student({**WRONG, "train_step_answer": "right"}), ON_TIME)  # 2 of 4
    # carol: an endless loop, a shell command that tries to reach the grader's files, a crash
    _submit(inbound, tmp, "carol", _student({
        "total_steps_answer": "while True:\n    pass",
        "train_step_answer": f"import os\nos.system('touch {TOUCH}; rm -rf {tmp}/inbound')\nanswer = None",
        "warmup_steps_answer": "answer = 1 / 0"}), ON_TIME)
    _submit(inbound, tmp, "dave", "this is not a notebook {", ON_TIME)
    # erin: the answer cells moved to the top in reverse, the warm-up answer deleted, the rest right
    erin = _student(ALL_RIGHT)
    moved = [c for c in erin["cells"] if A.nbgrader_meta(c).get("grade_id") in ("total_steps_answer",
                                                                               "train_step_answer")]
    erin["cells"] = moved[::-1] + [c for c in erin["cells"] if c not in moved
                                  and A.nbgrader_meta(c).get("grade_id") != "warmup_steps_answer"]
    _submit(inbound, tmp, "erin", erin, ON_TIME)
    # frank: wrong answers, but test cells emptied and worth 100, a checker swapped, Feedback patched
    frank = _student({**WRONG, "warmup_steps_answer": TAMPER, "total_steps_answer": TAMPER_QUIET})
    for cell in frank["cells"]:
        meta = A.nbgrader_meta(cell)
        if meta.get("grade"):
            cell["source"], meta["points"] = "pass", 100
    _submit(inbound, tmp, "frank", frank, ON_TIME)
    # gina: all right first, then a second, half-wrong submission: the latest counts, both are kept
    _submit(inbound, tmp, "gina", _student(ALL_RIGHT), ON_TIME - timedelta(hours=2))
    _submit(inbound, tmp, "gina", _student({**WRONG, "train_step_answer": "right"}), ON_TIME)
    _submit(inbound, tmp, "henry", _student(ALL_RIGHT), DUE + timedelta(hours=3))        # late
    # ivan: the grader's runner killed, a file written outside its folder, 64 GB asked for (aliases: no scan hit)
    _submit(inbound, tmp, "ivan", _student({
        "total_steps_answer": "import os as o\no.kill(o.getppid(), 9)\nanswer = None",
        "train_step_answer": f"open('{tmp}/inbound/evil.txt', 'w').write('x')\nanswer = None",
        "warmup_steps_answer": "hog = bytearray(64 * 2**30)\nanswer = None"}), ON_TIME)
    rows = G.grade_assignment(SOURCE, inbound, tmp / "work", due=DUE, limits=LIMITS,
                              env={"LENET_MNIST_DIR": os.environ.get("LENET_MNIST_DIR", "")})
    book = G.write_gradebook(rows, tmp / "gradebook.csv")
    pages = G.write_feedback(rows, tmp / "feedback", NAME)
    yield {"tmp": tmp, "inbound": inbound, "rows": rows, "book": book, "pages": pages}
    TOUCH.unlink(missing_ok=True)


def _of(graded, student: str) -> dict[str, G.Row]:
    return {r.exercise: r for r in graded["rows"] if r.student == student}


def test_two_students_one_all_right_one_half_right_give_the_expected_gradebook(graded):
    with open(graded["book"], newline="") as f:
        book = list(csv.DictReader(f))
    assert list(book[0]) == list(G.GRADEBOOK_FIELDS)
    mine = {(r["student"], r["exercise"]): r for r in book if r["student"] in ("alice", "bob")}
    assert {k: (v["points"], v["max_points"], v["late"]) for k, v in mine.items()} == {
        ("alice", "total_steps"): ("1", "1", "no"), ("alice", "train_step"): ("2", "2", "no"),
        ("alice", "warmup_steps"): ("1", "1", "no"),
        ("bob", "total_steps"): ("0", "1", "no"), ("bob", "train_step"): ("2", "2", "no"),
        ("bob", "warmup_steps"): ("0", "1", "no")}
    assert "last, smaller batch" in mine[("bob", "total_steps")]["message"]      # the checker's own hint
    assert "the peak step itself" in mine[("bob", "warmup_steps")]["message"]


def test_an_endless_loop_scores_0_timed_out_and_a_crash_says_what_it_raised(graded):
    carol = _of(graded, "carol")
    assert carol["total_steps"].points == 0
    assert carol["total_steps"].message == f"timed out after {LIMITS.cell_seconds * 2:g} s"
    assert carol["warmup_steps"].points == 0 and "ZeroDivisionError" in carol["warmup_steps"].message


def test_a_shell_command_cannot_reach_the_grader_and_is_left_to_the_lecturer(graded):
    carol = _of(graded, "carol")
    assert carol["train_step"].points == 0 and "os.system" in carol["train_step"].message
    assert graded["inbound"].is_dir() and len(list(graded["inbound"].iterdir())) == 10, "the submissions survived"
    if os.geteuid() == 0:       # it ran as nobody: it could not write where nobody may not
        assert not TOUCH.exists() or TOUCH.stat().st_uid != 0


def test_an_answer_cannot_take_all_the_memory(graded):
    ivan = _of(graded, "ivan")
    assert ivan["warmup_steps"].points == 0 and "MemoryError" in ivan["warmup_steps"].message


def test_an_answer_cannot_write_outside_its_folder_or_kill_the_grader(graded):
    assert os.geteuid() == 0, "run as root: only then do answers run as an unprivileged account (nobody)"
    ivan = _of(graded, "ivan")
    assert ivan["total_steps"].points == 0 and "PermissionError" in ivan["total_steps"].message
    assert ivan["train_step"].points == 0 and "PermissionError" in ivan["train_step"].message   # graded after
    assert not (graded["inbound"] / "evil.txt").exists()


def test_a_file_that_is_not_a_notebook_scores_0_with_a_message_and_stays(graded):
    dave = _of(graded, "dave")
    assert [r.points for r in dave.values()] == [0, 0, 0]
    assert all("not a Jupyter notebook" in r.message for r in dave.values())
    kept = next(p for p in graded["inbound"].iterdir() if p.name.startswith("dave+"))
    assert (kept / NAME).read_text() == "this is not a notebook {"


def test_moved_cells_are_found_by_grade_id_and_a_deleted_answer_scores_0_with_a_message(graded):
    erin = _of(graded, "erin")
    assert (erin["total_steps"].points, erin["train_step"].points) == (1, 2)
    assert erin["warmup_steps"].points == 0 and "answer cell is missing" in erin["warmup_steps"].message


def test_edited_tests_points_and_a_patched_checker_give_no_marks(graded):
    frank = _of(graded, "frank")
    assert {k: (r.points, r.max_points) for k, r in frank.items()} == {
        "total_steps": (0, 1), "train_step": (0, 2), "warmup_steps": (0, 1)}
    assert "the checkers" in frank["warmup_steps"].message                         # the scan saw it
    assert "replaced part of the grader" in frank["total_steps"].message          # the fork's check saw it


def test_submitting_twice_keeps_both_and_the_latest_counts(graded):
    kept = [p for p in graded["inbound"].iterdir() if p.name.startswith("gina+")]
    assert len(kept) == 2
    gina = _of(graded, "gina")
    assert sum(r.points for r in gina.values()) == 2
    assert gina["train_step"].submitted_at == ON_TIME.isoformat()


def test_a_late_submission_is_graded_and_marked_late_with_its_time(graded):
    henry = _of(graded, "henry")
    assert sum(r.points for r in henry.values()) == 4 and all(r.late for r in henry.values())
    assert all(r.message.startswith(f"late: submitted {(DUE + timedelta(hours=3)).isoformat()}")
               for r in henry.values())


def test_each_student_gets_a_feedback_page(graded):
    pages = {p.parts[-3]: p for p in graded["pages"]}
    assert set(pages) == {"alice", "bob", "carol", "dave", "erin", "frank", "gina", "henry", "ivan"}
    assert pages["alice"].name == "03_training.html" and pages["alice"].parent.name == "lesson03"
    assert "4 / 4 points" in pages["alice"].read_text()
    assert "2 / 4 points" in pages["bob"].read_text() and "last, smaller batch" in pages["bob"].read_text()


def test_a_half_written_submission_is_not_graded_until_it_is_whole(tmp_path):
    (tmp_path / "zoe+lesson03+2026-12-07 10:00:00.000000 UTC+ab12").mkdir()     # no timestamp.txt yet
    (tmp_path / ".incoming-x").mkdir()
    assert G.find_submissions(tmp_path) == []


def test_bad_names_are_refused(tmp_path):
    nb = tmp_path / NAME
    nb.write_text("{}")
    with pytest.raises(G.GradingError, match="student '../x'"):
        G.submit(tmp_path / "inbound", "../x", "lesson03", nb)


def test_the_grader_refuses_a_missing_source(tmp_path):
    with pytest.raises(G.GradingError, match="lenet assignments build"):
        G.grade_assignment(tmp_path / "nope" / NAME, tmp_path, tmp_path / "work")


def test_copy_is_deep():   # the helpers above must not change the committed source
    before = SOURCE.read_text()
    _student(copy.deepcopy(ALL_RIGHT))
    assert SOURCE.read_text() == before


def test_the_grade_command_writes_the_gradebook_and_feedback(tmp_path, capsys):
    """`lenet grade` on lesson 02b (numpy only, quick): one student, all right."""
    from lenet_utils.cli import main

    source = json.loads((REPO / "assignments" / "source" / "lesson02b" / "02b_backprop.ipynb").read_text())
    right = {A.nbgrader_meta(c)["grade_id"]: c["source"] for c in source["cells"] if A.nbgrader_meta(c).get("solution")}
    nb = A.student_version(source)
    for cell in nb["cells"]:
        if A.nbgrader_meta(cell).get("grade_id") in right:
            cell["source"] = right[A.nbgrader_meta(cell)["grade_id"]]
    path = tmp_path / "02b_backprop.ipynb"
    path.write_text(json.dumps(nb))
    G.submit(tmp_path / "inbound", "ada", "lesson02b", path, ON_TIME)
    assert main(["grade", "lesson02b", "--inbound", str(tmp_path / "inbound"), "--out", str(tmp_path / "out"),
                 "--due", "2026-12-14T23:59Z", "--cell-seconds", "60"]) == 0
    with open(tmp_path / "out" / "gradebook-lesson02b.csv", newline="") as f:
        book = list(csv.DictReader(f))
    assert [(r["student"], r["points"], r["late"]) for r in book] == [("ada", "1", "no")] * 4
    assert (tmp_path / "out" / "feedback" / "ada" / "lesson02b" / "02b_backprop.html").is_file()
    assert "graded 1 students" in capsys.readouterr().out
    assert main(["grade", "lesson02b", "--inbound", str(tmp_path / "inbound"), "--out", str(tmp_path / "out"),
                 "--due", "next week"]) == 2
    assert "--due 'next week'" in capsys.readouterr().err


def test_answers_have_no_network(tmp_path):
    """Straight to the sandbox (no scan): an answer that connects out gets an error, not a connection."""
    from lenet_utils.term.sandbox import run_notebook

    assert os.geteuid() == 0, "run as root: the network namespace needs it"
    listener = __import__("socket").create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    cells = [{"kind": "lesson", "source": "import socket"},
             {"kind": "answer", "grade_id": "net_answer", "lesson_source": "answer = None",
              "answers": {"eve": f"socket.create_connection(('127.0.0.1', {port}), timeout=5)\nanswer = 1"}},
             {"kind": "test", "grade_id": "net", "source": "from lenet_utils.lessons.exercises import check_total_steps"
                                                          "\nfeedback = check_total_steps(answer)"}]
    verdicts, note = run_notebook(cells, tmp_path, Limits(cell_seconds=20))
    listener.close()
    assert note == ""
    assert not verdicts[("eve", "net")].passed
    assert "Network is unreachable" in verdicts[("eve", "net")].message     # a network of its own, down


def test_grading_while_students_submit_loses_nothing_and_the_next_run_grades_the_latest(tmp_path):
    """A lecturer grades lesson 01 while bob submits five times and a submission is half written:
    the run grades what was whole when it started, every submission stays as it was sent, and the
    next run grades bob's latest."""
    import threading

    source_path = REPO / "assignments" / "source" / "lesson01" / "01_mnist_data.ipynb"
    source = json.loads(source_path.read_text())
    solutions = {A.nbgrader_meta(c)["grade_id"]: c["source"] for c in source["cells"]
                 if A.nbgrader_meta(c).get("solution")}

    def copy_of(right: bool) -> dict:
        nb = A.student_version(copy.deepcopy(source))
        for cell in nb["cells"]:
            if right and A.nbgrader_meta(cell).get("solution"):
                cell["source"] = solutions[A.nbgrader_meta(cell)["grade_id"]]
        return nb

    inbound, sent = tmp_path / "inbound", {}

    def send(student: str, nb: dict, when: datetime) -> None:
        path = tmp_path / "sent" / f"{student}-{len(sent)}" / source_path.name
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(nb))
        sent[G.submit(inbound, student, "lesson01", path, when)] = path.read_bytes()

    send("alice", copy_of(right=True), ON_TIME)
    env = {"LENET_MNIST_DIR": os.environ.get("LENET_MNIST_DIR", "")}
    result: dict = {}
    grader = threading.Thread(target=lambda: result.update(rows=G.grade_assignment(
        source_path, inbound, tmp_path / "work", due=DUE, limits=LIMITS, env=env)))
    grader.start()
    for i in range(5):                               # bob: right, wrong, right, wrong, right (the last counts)
        send("bob", copy_of(right=i % 2 == 0), ON_TIME + timedelta(minutes=i))
    half = inbound / f"zoe+lesson01+{ON_TIME.strftime('%Y-%m-%d %H:%M:%S.%f')} UTC+ab12"
    half.mkdir()                                     # being written: no timestamp.txt yet
    assert grader.is_alive(), "the submissions must arrive while the grader runs"
    grader.join(timeout=900)
    assert not grader.is_alive() and "rows" in result, "the grading run did not finish"

    first = {(r.student, r.exercise): r.points for r in result["rows"]}
    assert {s for s, _ in first} <= {"alice", "bob"}                       # never zoe's half-written folder
    assert all(first[("alice", e)] == 1 for e in ("most_ink", "blank_fraction", "normalized_pixel"))
    for folder, content in sent.items():                                    # nothing lost, nothing changed
        assert (folder / source_path.name).read_bytes() == content, folder
    assert len(G.find_submissions(inbound)) == 6

    again = G.grade_assignment(source_path, inbound, tmp_path / "work2", due=DUE, limits=LIMITS, env=env)
    bob = {r.exercise: r.points for r in again if r.student == "bob"}
    assert bob == {"most_ink": 1, "blank_fraction": 1, "normalized_pixel": 1}, bob
