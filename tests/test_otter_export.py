"""The Otter-Grader export: Otter's own tools turn it into an autograder, and Otter's grading (no Docker)
gives two simulated students the same points as the nbgrader path (lenet_utils.term.grading)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lenet_utils.term import assignments as A
from lenet_utils.term import grading as G
from lenet_utils.term import otter as O
from lenet_utils.term.sandbox import Limits

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "assignments" / "source"
COMMITTED = REPO / "assignments" / "otter"
LESSON = "lesson02b"          # numpy only, a few seconds a run: Otter runs the whole notebook per submission
NAME = "02b_backprop.ipynb"
WRONG = {"logit_grad_sum_answer": "answer = 1", "corner_pixel_uses_answer": "answer = 25"}


def _answers(wrong: dict[str, str]) -> dict[str, str]:
    """A student's answer cells, by grade_id: the source's solution, or the wrong code given."""
    source = json.loads((SOURCE / LESSON / NAME).read_text())
    return {A.nbgrader_meta(c)["grade_id"]: wrong.get(A.nbgrader_meta(c)["grade_id"], "".join(c["source"]))
            for c in source["cells"] if A.nbgrader_meta(c).get("solution")}


def _nbgrader_submission(answers: dict[str, str]) -> dict:
    """nbgrader's student copy with these answers, found by grade_id."""
    nb = A.student_version(json.loads((SOURCE / LESSON / NAME).read_text()))
    for cell in nb["cells"]:
        gid = A.nbgrader_meta(cell).get("grade_id")
        if gid in answers:
            cell["source"] = answers[gid]
    return nb


def _otter_submission(student_nb: Path, answers: dict[str, str]) -> dict:
    """Otter's student copy with the same answers, in the cells that end with the exercise's self-check."""
    nb = json.loads(student_nb.read_text())
    for gid, code in answers.items():
        check = f"check_{gid.removesuffix('_answer')}(answer)"
        (cell,) = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).rstrip().endswith(check)]
        cell["source"] = code
    return nb


def test_the_committed_otter_notebooks_match_the_source_assignments(tmp_path):
    written = O.export(SOURCE, tmp_path)
    fresh = {p.relative_to(tmp_path): p.read_text() for p in written}
    committed = {p.relative_to(COMMITTED): p.read_text() for p in COMMITTED.rglob("*.ipynb")}
    stale = sorted(str(k) for k in fresh.keys() | committed.keys() if fresh.get(k) != committed.get(k))
    assert not stale, f"assignments/otter is stale ({stale}): run make assignments"


def test_the_otter_notebook_has_a_question_per_exercise_with_a_hidden_test():
    nb = json.loads((COMMITTED / LESSON / NAME).read_text())
    raw = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "raw"]
    assert raw[0].startswith("# ASSIGNMENT CONFIG\nname: lesson02b")
    questions = [r for r in raw if r.startswith("# BEGIN QUESTION")]
    assert [q.splitlines()[1] for q in questions] == ["name: logit_grad_sum", "name: corner_pixel_uses",
                                                      "name: conv_backward", "name: avgpool_backward"]
    assert all("all_or_nothing: true" in q for q in questions)
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert sum(c.startswith("# HIDDEN\n") and "variant=1" in c for c in code) == 2


@pytest.fixture(scope="module")
def otter_autograder(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("otter")
    (tmp / NAME).write_text((COMMITTED / LESSON / NAME).read_text())
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, "-m", "otter", "assign", NAME, "dist"], cwd=tmp, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    student = (tmp / "dist" / "student" / NAME).read_text()
    assert "BEGIN SOLUTION" not in student and "variant=1" not in student
    (zip_path,) = (tmp / "dist" / "autograder").glob("*.zip")
    return tmp, zip_path


def test_otter_grades_two_students_as_the_nbgrader_path_does(otter_autograder, tmp_path):
    from otter.api import grade_submission

    tmp, zip_path = otter_autograder
    inbound = tmp_path / "inbound"
    submissions = {}
    for student, wrong in (("alice", {}), ("bob", WRONG)):
        answers = _answers(wrong)
        mine = tmp_path / student / NAME
        mine.parent.mkdir()
        mine.write_text(json.dumps(_nbgrader_submission(answers)))
        G.submit(inbound, student, LESSON, mine)
        submissions[student] = tmp_path / student / "otter" / NAME
        submissions[student].parent.mkdir()
        submissions[student].write_text(json.dumps(_otter_submission(tmp / "dist" / "student" / NAME, answers)))
    rows = G.grade_assignment(SOURCE / LESSON / NAME, inbound, tmp_path / "work", limits=Limits(cell_seconds=60))
    ours = {(r.student, r.exercise): r.points for r in rows}
    assert ours == {("alice", "logit_grad_sum"): 1, ("alice", "corner_pixel_uses"): 1,
                    ("alice", "conv_backward"): 1, ("alice", "avgpool_backward"): 1,
                    ("bob", "logit_grad_sum"): 0, ("bob", "corner_pixel_uses"): 0,
                    ("bob", "conv_backward"): 1, ("bob", "avgpool_backward"): 1}
    for student, path in submissions.items():
        result = grade_submission(str(path), str(zip_path), quiet=True)
        theirs = {name: r.score for name, r in result.results.items()}
        assert theirs == {ex: p for (st, ex), p in ours.items() if st == student}, student
