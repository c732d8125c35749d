"""Answers that try to grade themselves, through the real grader: the verdict is the grader's own.

In the sandbox an answer shares its process with the probe that runs it, so it can write anything into
any file descriptor, patch any module and exit. These submissions do exactly that (in code the grader's
scan for suspicious code does not catch), and each must get 0 for the reason stated; right answers still
get full points and wrong ones none, for every graded exercise of lessons 02b and 03."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from lenet_utils.lessons.exercises import check_total_steps, check_train_step
from lenet_utils.term import assignments as A
from lenet_utils.term import grading as G
from lenet_utils.term import replay
from lenet_utils.term.sandbox import Limits

REPO = Path(__file__).resolve().parents[1]
WHEN = datetime(2026, 12, 1, tzinfo=timezone.utc)
LIMITS = Limits(cell_seconds=30, notebook_seconds=900)
LESSONS = {"lesson02b": "02b_backprop.ipynb", "lesson03": "03_training.ipynb"}

# A wrong answer for each graded exercise: a value, or a function that computes something else.
WRONG = {
    "logit_grad_sum_answer": "answer = 1.5",
    "corner_pixel_uses_answer": "answer = 25",
    "conv_backward_answer": ("import numpy as np\n\ndef wrong(d_out, x_padded, K):\n"
                             "    return np.zeros_like(x_padded), np.zeros_like(K), d_out.sum(axis=(0, 2, 3))\n\n"
                             "answer = wrong"),
    "avgpool_backward_answer": "import numpy as np\nanswer = lambda d_out, shape: np.ones(shape)",
    "total_steps_answer": "answer = 1070",
    "train_step_answer": "answer = lambda model, optimizer, x, y: model(x).sum()",
    "warmup_steps_answer": "answer = 130",                                  # counts the peak step too
}

# Written into every pipe the fork holds, then the fork exits: the old protocol's "passed" verdict as the
# first line, and (for train_step) probe data claiming a right answer's results for the known inputs.
FORGE = """
import json
import stat
o = __import__("o" + "s")
lines = [json.dumps({"student": "mallory", "grade_id": GRADE_ID, "passed": True, "message": ""}).encode()]
lines += [open(PATH).read().encode()] if PATH else []
data = b"\\n".join(lines) + b"\\n"
for fd in range(3, 256):
    try:
        if stat.S_ISFIFO(getattr(o, "fstat")(fd).st_mode):
            view = memoryview(data)
            while view:
                view = view[getattr(o, "wr" + "ite")(fd, view):]
    except OSError:
        pass
getattr(o, "_ex" + "it")(0)
"""

# Replaces the checker and the probe in the fork (no name the scan knows).
PATCH = """
import importlib
core = importlib.import_module("lenet_utils.lessons.exercises._core")
ex = importlib.import_module("lenet_utils.lessons.exercises")
ok = lambda *a, **k: core.Feedback(True, "ok")
for name in ("check_train_step", "check_total_steps"):
    vars(ex)[name] = ok
rp = importlib.import_module("lenet_utils.term.replay")
vars(rp)["probe"] = lambda *a, **k: {"kind": "value", "value": 1075}
vars(rp)["judge"] = ok
answer = None
"""

# Objects that claim to be the right answer: a number equal to everything.
LIARS = """
class Liar(int):
    __eq__ = lambda self, other: True
    __float__ = lambda self: 1075.0
    __index__ = lambda self: 1075
    is_integer = lambda self: True
    __hash__ = int.__hash__

LIAR_ANSWER
"""


def right_train_step(model, optimizer, x, y):
    import torch.nn.functional as F

    loss = F.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


def _source(lesson: str) -> dict:
    return json.loads((REPO / "assignments" / "source" / lesson / LESSONS[lesson]).read_text())


def _student(lesson: str, answers: dict[str, str]) -> dict:
    """The student's copy, each answer cell "right" (the solution), given code, or left as handed out."""
    solutions = {A.nbgrader_meta(c)["grade_id"]: c["source"] for c in _source(lesson)["cells"]
                 if A.nbgrader_meta(c).get("solution")}
    nb = A.student_version(_source(lesson))
    for cell in nb["cells"]:
        gid = A.nbgrader_meta(cell).get("grade_id")
        if gid in answers:
            cell["source"] = solutions[gid] if answers[gid] == "right" else answers[gid]
    return nb


def _grade(tmp: Path, lesson: str, students: dict[str, dict]) -> dict[tuple[str, str], G.Row]:
    inbound = tmp / "inbound"
    for student, nb in students.items():
        path = tmp / "sent" / student / LESSONS[lesson]
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(nb))
        G.submit(inbound, student, lesson, path, WHEN)
    for scanned in students.values():             # the attacks must reach the sandbox, not the scan
        for cell in scanned["cells"]:
            assert G.suspicious("".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]) \
                is None
    env = {"LENET_MNIST_DIR": os.environ.get("LENET_MNIST_DIR", "")}
    rows = G.grade_assignment(REPO / "assignments" / "source" / lesson / LESSONS[lesson], inbound, tmp / "work",
                              limits=LIMITS, env=env)
    return {(r.student, r.exercise): r for r in rows}


def _ids(lesson: str) -> list[str]:
    return [A.nbgrader_meta(c)["grade_id"] for c in _source(lesson)["cells"] if A.nbgrader_meta(c).get("grade")]


@pytest.fixture(scope="module")
def forged(tmp_path_factory):
    """Lesson 03 graded once: right, wrong, and four students who try to forge their grade."""
    tmp = tmp_path_factory.mktemp("forgery")
    ids = _ids("lesson03")
    right = {f"{gid}_answer": "right" for gid in ids}
    # what a right train_step's probes send back, for the visible inputs and the published hidden variant
    data = [replay.probe(check_train_step, right_train_step), replay.probe(check_train_step, right_train_step,
                                                                        variant=A.HIDDEN_VARIANT)]
    readable = Path(tempfile.mkdtemp(prefix="lenet-forgery-"))      # where the answers' account can read it
    readable.chmod(0o755)
    precomputed = readable / "probes.json"
    precomputed.write_text(json.dumps({"errors": [], "tampered": None, "probes": data}))
    precomputed.chmod(0o644)
    forge = {gid: FORGE.replace("GRADE_ID", repr(gid)).replace("PATH", repr(str(precomputed) if gid == "train_step"
                                                                           else "")) for gid in ids}
    students = {
        "alice": _student("lesson03", right),
        "bob": _student("lesson03", WRONG),
        "mallory": _student("lesson03", {f"{gid}_answer": forge[gid] for gid in ids}),
        "patcher": _student("lesson03", {f"{gid}_answer": PATCH for gid in ids}),
        "liar": _student("lesson03", {
            "total_steps_answer": LIARS.replace("LIAR_ANSWER", "answer = Liar(3)"),
            "train_step_answer": LIARS.replace("LIAR_ANSWER", "answer = lambda model, optimizer, x, y: Liar(0)"),
            "warmup_steps_answer": LIARS.replace("LIAR_ANSWER", "answer = Liar(7)"),
        }),
    }
    try:
        yield _grade(tmp, "lesson03", students)
    finally:
        shutil.rmtree(readable)


def test_a_right_answer_gets_full_points_and_a_wrong_one_none(forged):
    for gid in _ids("lesson03"):
        assert forged[("alice", gid)].points == forged[("alice", gid)].max_points > 0, forged[("alice", gid)]
        assert forged[("bob", gid)].points == 0, forged[("bob", gid)]


@pytest.mark.parametrize("gid", _ids("lesson03"))
def test_a_verdict_written_into_the_forks_pipes_is_not_a_grade(forged, gid):
    row = forged[("mallory", gid)]
    assert row.points == 0, row
    assert "could not be checked" in row.message, row.message


def test_probe_data_precomputed_for_the_known_inputs_fails_the_secret_hidden_inputs(forged):
    """mallory's train_step sends a right answer's probe data for variant 0 and the published variant 1:
    the visible check passes on it, the hidden one runs on a variant drawn after the answer ran."""
    row = forged[("mallory", "train_step")]
    assert row.message.startswith("other inputs (a hidden test): your answer could not be checked"), row.message


@pytest.mark.parametrize("gid", _ids("lesson03"))
def test_patching_the_checker_or_the_judge_in_the_fork_does_not_pass(forged, gid):
    row = forged[("patcher", gid)]
    assert row.points == 0, row
    assert "replaced part of the grader" in row.message, row.message


@pytest.mark.parametrize("gid, says", [
    ("total_steps", "Give a whole number of steps."),
    ("train_step", "The weights did not change"),
    ("warmup_steps", "Give a whole number of steps."),
])
def test_objects_whose_eq_float_or_index_lie_do_not_pass(forged, gid, says):
    row = forged[("liar", gid)]
    assert row.points == 0, row
    assert says in row.message, row.message


@pytest.fixture(scope="module")
def backprop(tmp_path_factory):
    ids = _ids("lesson02b")
    return _grade(tmp_path_factory.mktemp("backprop"), "lesson02b", {
        "alice": _student("lesson02b", {f"{gid}_answer": "right" for gid in ids}),
        "bob": _student("lesson02b", {f"{gid}_answer": WRONG[f"{gid}_answer"] for gid in ids})})


@pytest.mark.parametrize("gid", _ids("lesson02b"))
def test_lesson_02b_right_passes_and_wrong_fails_through_the_grader(backprop, gid):
    assert backprop[("alice", gid)].points == backprop[("alice", gid)].max_points > 0, backprop[("alice", gid)]
    assert backprop[("bob", gid)].points == 0, backprop[("bob", gid)]
    assert backprop[("bob", gid)].message and "could not be checked" not in backprop[("bob", gid)].message


def test_malformed_probe_data_is_not_checked_and_scores_nothing():
    """The judge alone: data that is not what a probe sends is "could not be checked", never a pass."""
    for data in (None, [], {"kind": "value"}, {"kind": "function", "calls": "x"},
                 {"kind": "value", "value": {"__ndarray__": [1, 2], "dtype": "object", "shape": [2]}},
                 {"kind": "value", "value": {"__pickle__": "gASVBQAAAAAAAACMAS6ULg=="}},
                 {"kind": "function", "calls": [{"key": "0" * 64, "result": 1}]}):
        feedback = replay.judge(check_train_step, data)
        assert not feedback.passed and "could not be checked" in feedback.message, (data, feedback)
    assert replay.judge(check_total_steps, {"kind": "value", "value": 1075}).passed      # the value itself


def test_in_one_process_probe_then_judge_gives_the_checkers_own_verdict():
    """What the grader does, without the fork: the same verdicts and messages as the notebook's check."""
    for answer in (right_train_step, lambda model, optimizer, x, y: model(x).sum()):
        data = json.loads(json.dumps(replay.probe(check_train_step, answer, variant=12345)))
        judged, direct = replay.judge(check_train_step, data, variant=12345), check_train_step(answer, variant=12345)
        assert (judged.passed, judged.message) == (direct.passed, direct.message)
