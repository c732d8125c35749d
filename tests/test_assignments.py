"""The graded assignments are made from the lessons: built, stripped for students, up to date, with points
from one file and hidden variants that catch hard-coded answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from lenet_utils.lessons import exercises as E
from lenet_utils.term import assignments as A

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
COMMITTED = REPO / "assignments" / "source"
POINTS = REPO / "assignments" / "points.toml"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("source")
    return out, A.build(NOTEBOOKS, out, POINTS)


def _nb(path: Path) -> dict:
    return json.loads(path.read_text())


def _cells(nb: dict, **flags) -> list[dict]:
    return [c for c in nb["cells"] if all(A.nbgrader_meta(c).get(k) == v for k, v in flags.items())]


def test_the_committed_assignments_match_the_lessons(built):
    out, written = built
    fresh = {p.relative_to(out): p.read_text() for p in written}
    committed = {p.relative_to(COMMITTED): p.read_text() for p in COMMITTED.rglob("*.ipynb")}
    stale = sorted(str(k) for k in fresh.keys() | committed.keys() if fresh.get(k) != committed.get(k))
    assert not stale, f"assignments/source is stale ({stale}): run make assignments"


def test_a_changed_lesson_makes_the_committed_copy_stale(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for name in ("03_training.ipynb", "03_training.solutions.ipynb"):
        (notebooks / name).write_text((NOTEBOOKS / name).read_text())
    lesson = _nb(notebooks / "03_training.ipynb")
    lesson["cells"][0]["source"] = "# 03 · a fixed typo\n"
    (notebooks / "03_training.ipynb").write_text(json.dumps(lesson))
    points = tmp_path / "points.toml"
    points.write_text('["03"]\ntrain_step = 2\n')
    (fresh,) = A.build(notebooks, tmp_path / "out", points)
    committed = (COMMITTED / "lesson03" / "03_training.ipynb").read_text()
    assert fresh.read_text() != committed
    (notebooks / "03_training.ipynb").write_text((NOTEBOOKS / "03_training.ipynb").read_text())
    assert A.build(notebooks, tmp_path / "out", points)[0].read_text() == committed     # the same lesson: the same


def test_every_lesson_with_solutions_has_an_assignment_with_every_exercise(built):
    out, written = built
    with_solutions = sorted(p.name.split("_")[0] for p in NOTEBOOKS.glob("*.solutions.ipynb"))
    assert [p.parent.name for p in written] == [f"lesson{key}" for key in with_solutions]
    for path in written:
        lesson = _nb(NOTEBOOKS / path.name)
        calls = [ln for c in lesson["cells"] if c["cell_type"] == "code"
                 for ln in "".join(c["source"]).splitlines() if A.CHECK_CALL.match(ln)
                 and not ln.startswith(A.PREDICTION_PREFIX)]
        nb = _nb(path)
        tests = _cells(nb, grade=True)
        assert len(tests) == len(calls) == len(_cells(nb, solution=True)) > 0, path
        # every other cell is the lesson's, locked, but for "predict before you run" questions (ungraded)
        assert len(nb["cells"]) == len(lesson["cells"]) + len(tests)
        predictions = A.prediction_cells(lesson)
        assert sum(not c["metadata"] for c in nb["cells"]) == len(predictions)
        assert all(A.nbgrader_meta(c)["locked"] for c in nb["cells"]
                   if c["metadata"] and not A.nbgrader_meta(c)["solution"])
        ids = [A.nbgrader_meta(c)["grade_id"] for c in nb["cells"] if c["metadata"]]
        assert len(ids) == len(set(ids)), "grade_ids are unique"


def test_the_metadata_is_nbgrader_s(built):
    out, _ = built
    nb = _nb(out / "lesson03" / "03_training.ipynb")
    nbformat.validate(nbformat.from_dict(nb))
    test = next(c for c in _cells(nb, grade=True) if A.nbgrader_meta(c)["grade_id"] == "train_step")
    assert A.nbgrader_meta(test) == {"grade": True, "grade_id": "train_step", "locked": True, "points": 2.0,
                                     "schema_version": 3, "solution": False}
    from nbgrader.preprocessors import CheckCellMetadata

    CheckCellMetadata().preprocess(nbformat.from_dict(nb), {})          # nbgrader's own validation


def test_the_test_cell_runs_the_self_check_s_checker_and_a_hidden_variant(built):
    out, _ = built
    nb = _nb(out / "lesson03" / "03_training.ipynb")
    tests = {A.nbgrader_meta(c)["grade_id"]: c["source"] for c in _cells(nb, grade=True)}
    assert "feedback = check_total_steps(answer)\nassert feedback.passed, feedback.message" in tests["total_steps"]
    assert "### BEGIN HIDDEN TESTS\nfeedback = check_train_step(answer, variant=1)" in tests["train_step"]
    assert "HIDDEN" not in tests["total_steps"]       # a number has no other inputs


def test_points_come_from_the_points_file_default_1(tmp_path):
    lesson, solutions = _nb(NOTEBOOKS / "03_training.ipynb"), _nb(NOTEBOOKS / "03_training.solutions.ipynb")
    nb = A.build_source(lesson, solutions, "03", {"train_step": 5})
    assert {A.nbgrader_meta(c)["grade_id"]: A.nbgrader_meta(c)["points"] for c in _cells(nb, grade=True)} == {
        "total_steps": 1.0, "train_step": 5.0, "warmup_steps": 1.0}
    assert A.max_points(nb) == 7
    bad = tmp_path / "points.toml"
    bad.write_text('["03"]\ntrain_stepp = 2\n')
    with pytest.raises(A.AssignmentError, match=r"names \['train_stepp'\].*its exercises"):
        A.build(NOTEBOOKS, tmp_path / "out", bad)
    bad.write_text('["03"]\ntrain_step = "two"\n')
    with pytest.raises(A.AssignmentError, match="points must be a number"):
        A.load_points(bad)
    bad.write_text('["03"\n')
    with pytest.raises(A.AssignmentError, match="not valid TOML"):
        A.load_points(bad)


def test_the_student_version_has_no_solution_and_no_hidden_test(built):
    out, written = built
    for path in written:
        source, student = _nb(path), A.student_version(_nb(path))
        text = json.dumps(student)
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "variant="):
            assert marker not in text, (path, marker)
        lesson = _nb(NOTEBOOKS / path.name)
        by_id = {c["id"]: c for c in lesson["cells"]}
        for cell in _cells(student, solution=True):      # the lesson's own cell, answer = None and all
            src = "".join(cell["source"])
            assert A.CODE_STUB in src
            original = "".join(by_id[cell["id"]]["source"])
            kept = "\n".join(ln for ln in src.splitlines() if ln != A.CODE_STUB)
            assert kept.rstrip() == original.rstrip(), (path, cell["id"])
        # the solutions were really there
        assert "BEGIN SOLUTION" in json.dumps(source)
        assert all(not c.get("outputs") for c in student["cells"] if c["cell_type"] == "code")


def test_the_student_version_is_what_nbgrader_generate_assignment_makes(tmp_path, built):
    """nbgrader's own command on a course folder with the committed config gives the same cells."""
    out, _ = built
    course = tmp_path / "course"
    (course / "source" / "lesson03").mkdir(parents=True)
    (course / "source" / "lesson03" / "03_training.ipynb").write_text((out / "lesson03" / "03_training.ipynb")
                                                                      .read_text())
    (course / "nbgrader_config.py").write_text((REPO / "assignments" / "nbgrader_config.py").read_text())
    done = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "lesson03", "--force",
                           "--CourseDirectory.db_url=sqlite:///" + str(tmp_path / "gradebook.db")],
                          cwd=course, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = _nb(course / "release" / "lesson03" / "03_training.ipynb")
    ours = A.student_version(_nb(out / "lesson03" / "03_training.ipynb"))
    assert [("".join(c["source"]), c["metadata"]) for c in theirs["cells"]] == \
           [("".join(c["source"]), c["metadata"]) for c in ours["cells"]]


def test_the_source_assignment_passes_its_own_tests(built):
    """The solution and the test of each exercise of lesson 03, run together, pass (the grader runs the
    whole lesson too: tests/test_grading.py)."""
    out, _ = built
    nb = _nb(out / "lesson03" / "03_training.ipynb")
    for answer, test in zip(_cells(nb, solution=True), _cells(nb, grade=True)):
        namespace: dict = {}
        exec(compile(answer["source"], "answer", "exec"), namespace)
        exec(compile(test["source"], "test", "exec"), namespace)


def test_a_hard_coded_answer_passes_the_self_check_but_not_the_hidden_variant():
    right = {(w, h): (max(1, round(w * 20 / max(w, h))), max(1, round(h * 20 / max(w, h))))
             for w, h in E.ch05_predict.BOX_CASES}

    def box_size(width, height):                  # looks up the self-check's cases
        return right.get((width, height), (20, 20))

    assert E.check_box_size(box_size).passed
    assert not E.check_box_size(box_size, variant=1).passed

    def avgpool_backward(d_out, x_shape):        # right only for even sides: the self-check has odd ones
        return np.repeat(np.repeat(d_out, 2, axis=2), 2, axis=3) / 4

    assert not E.check_avgpool_backward(avgpool_backward).passed


def test_the_variants_pass_the_solutions():
    import torch.nn.functional as F

    def train_step(model, optimizer, x, y):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    def box_size(w, h):
        s = 20 / max(w, h)
        return max(1, round(w * s)), max(1, round(h * s))

    def avgpool_backward(d_out, x_shape):
        d_x = np.zeros(x_shape)
        oh, ow = d_out.shape[2:]
        d_x[:, :, :2 * oh, :2 * ow] = np.repeat(np.repeat(d_out, 2, axis=2), 2, axis=3) / 4
        return d_x

    for check, answer in ((E.check_train_step, train_step), (E.check_box_size, box_size),
                          (E.check_avgpool_backward, avgpool_backward)):
        for variant in (0, 1, 2):
            assert check(answer, variant=variant).passed, (check.__name__, variant)


def test_a_lesson_without_exercises_or_solutions_is_refused(tmp_path):
    (tmp_path / "07_gallery.ipynb").write_text("{}")
    with pytest.raises(A.AssignmentError, match="no lesson"):
        A.find_lessons(tmp_path)


def test_the_command_builds_the_committed_files_and_refuses_a_bad_points_file(tmp_path):
    from lenet_utils.cli import main

    assert main(["assignments", "build", "--out", str(tmp_path / "out")]) == 0
    built = sorted(p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*.ipynb"))
    assert built == sorted(p.relative_to(COMMITTED) for p in COMMITTED.rglob("*.ipynb"))
    bad = tmp_path / "points.toml"
    bad.write_text('["09"]\nx = 1\n')
    assert main(["assignments", "build", "--out", str(tmp_path / "o2"), "--points", str(bad)]) == 2


@pytest.mark.parametrize("lesson", ["lesson01", "lesson02", "lesson04", "lesson05", "lesson06"])
def test_the_solutions_get_full_marks_from_the_grader(lesson, tmp_path):
    """Each lesson run whole in the sandbox, its solutions as one student's answers: every test passes
    (lesson 03: tests/test_grading.py; 02b: tests/test_otter_export.py)."""
    from lenet_utils.term import grading as G
    from lenet_utils.term.sandbox import Limits

    (path,) = (COMMITTED / lesson).glob("*.ipynb")
    source = _nb(path)
    right = {A.nbgrader_meta(c)["grade_id"]: c["source"] for c in _cells(source, solution=True)}
    nb = A.student_version(source)
    for cell in nb["cells"]:
        if A.nbgrader_meta(cell).get("grade_id") in right:
            cell["source"] = right[A.nbgrader_meta(cell)["grade_id"]]
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / path.name).write_text(json.dumps(nb))
    env = {"LENET_MNIST_DIR": os.environ.get("LENET_MNIST_DIR", ""), "LENET_DATA_DIR": str(tmp_path / "data")}
    result = G.grade_notebooks(source, {"sol": tmp_path / "sub"}, path.name, tmp_path / "work",
                               Limits(cell_seconds=120), env)["sol"]
    assert [(ex, points) for ex, points, worth, _ in result] == \
           [(A.nbgrader_meta(c)["grade_id"], A.nbgrader_meta(c)["points"]) for c in _cells(source, grade=True)], result


def _code(src: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": src, "outputs": [], "execution_count": None}


def test_a_prediction_question_stays_editable_and_ungraded_and_extra_arguments_reach_the_test():
    lesson = {"metadata": {}, "cells": [
        _code("g = load_gallery()"),
        _code('prediction = None  # "a" or "b": before running the next cell'),
        _code("check_predict_gap(prediction)"),
        _code("answer = None  # your function"),
        _code("check_split_by_writer(answer, g)"),
    ]}
    solutions = {"metadata": {}, "cells": [_code("def answer(g):\n    return g\n\ncheck_split_by_writer(answer, g)")]}
    source = A.build_source(lesson, solutions, "07")
    graded = _cells(source, grade=True)
    assert [A.nbgrader_meta(c)["grade_id"] for c in graded] == ["split_by_writer"]  # no points for a prediction
    assert "feedback = check_split_by_writer(answer, g)" in A._source(graded[0])  # the lesson's own g
    prediction = [c for c in source["cells"] if "prediction" in A._source(c)]
    assert len(prediction) == 2 and all(not c["metadata"] for c in prediction)    # editable, no nbgrader cell
    assert all(A.nbgrader_meta(c).get("locked") for c in source["cells"] if "load_gallery" in A._source(c))
