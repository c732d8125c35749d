"""Each lesson with exercises -> an nbgrader source assignment: lesson locked, answers solution cells, tests graded.

An exercise is a lesson code cell whose last line calls a checker, ``check_x(answer)``. In the source
assignment:

* every lesson cell is locked (read-only);
* the answer cell (the exercise cell, or the cell before it that defines what the check is given)
  keeps the lesson's text for the student and adds the solutions notebook's answer between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION``;
* after the exercise comes an autograded test cell worth ``assignments/points.toml``'s points: the
  same checker as the self-check, ``assert check_x(answer).passed``, plus, where the checker takes a
  ``variant``, a hidden test (``### BEGIN HIDDEN TESTS``) with other inputs.

:func:`student_version` strips solutions and hidden tests with nbgrader's own preprocessors, as
``nbgrader generate_assignment`` does.
"""

from __future__ import annotations

import ast
import copy
import inspect
import json
import re
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

SCHEMA_VERSION = 3
HIDDEN_VARIANT = 1                          # the checker's ``variant`` in the hidden test (0 is the self-check's)
CODE_STUB = "# YOUR CODE HERE"              # what replaces a solution in the student's copy (no raise: the
                                            # self-check below it must still give its hint)
LESSON = re.compile(r"^(?P<key>\d\d[a-z]?)_(?P<name>\w+)\.ipynb$")
CHECK_CALL = re.compile(r"^(?P<checker>check_\w+)\((?P<var>\w+)\)\s*$")
EXERCISES = "lenet_utils.lessons.exercises"
NOTEBOOK_META = ("kernelspec", "language_info")   # what a source notebook keeps of the lesson's metadata


class AssignmentError(ValueError):
    """A lesson, a solutions notebook or the points file that cannot be turned into an assignment."""


@dataclass(frozen=True)
class Exercise:
    lesson: str            # "03"
    name: str              # "total_steps": the checker's name without check_
    checker: str           # "check_total_steps"
    var: str               # what the check is given: "answer", or "MyLeNet5"
    points: float
    hidden: bool           # the checker takes a variant, so the test has a hidden variant

    @property
    def grade_id(self) -> str:           # the test cell's
        return self.name

    @property
    def answer_id(self) -> str:          # the solution cell's
        return f"{self.name}_answer"


def assignment_name(lesson_key: str) -> str:
    """``"03"`` -> ``"lesson03"``: the assignment's folder (and nbgrader assignment id)."""
    return f"lesson{lesson_key}"


# --- points ------------------------------------------------------------------------------------
def load_points(path: Path | None) -> dict[str, dict[str, float]]:
    """``{lesson: {exercise: points}}`` from a points.toml (``["03"] total_steps = 2``); missing: 1 each."""
    if path is None or not Path(path).is_file():
        return {}
    try:
        raw = tomllib.loads(Path(path).read_text())
    except tomllib.TOMLDecodeError as err:
        raise AssignmentError(f"{path}: not valid TOML ({err}); fix the file") from None
    points: dict[str, dict[str, float]] = {}
    for lesson, table in raw.items():
        if not isinstance(table, dict):
            raise AssignmentError(f"{path}: [{lesson}] should be a table of exercise = points")
        for name, value in table.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise AssignmentError(f"{path}: [{lesson}] {name} = {value!r}: points must be a number >= 0")
            points.setdefault(str(lesson), {})[name] = float(value)
    return points


# --- reading the lessons ---------------------------------------------------------------------------
def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _checker_takes_variant(checker: str) -> bool:
    from ..lessons import exercises

    fn = getattr(exercises, checker, None)
    if fn is None:
        raise AssignmentError(f"{checker} is called in a lesson but lenet_utils.lessons.exercises has no such checker")
    return "variant" in inspect.signature(fn).parameters


def _defines(src: str, var: str) -> bool:
    return re.search(rf"^(class|def)\s+{var}\b|^{var}\s*=", src, re.M) is not None


def lesson_exercises(lesson: dict, key: str, points: dict[str, float] | None = None) -> list[tuple[int, int, Exercise]]:
    """``(answer cell index, check cell index, Exercise)`` for each exercise of a lesson notebook."""
    found = []
    cells = lesson["cells"]
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        lines = [ln for ln in _source(cell).rstrip().splitlines() if ln.strip()]
        match = CHECK_CALL.match(lines[-1]) if lines else None
        if not match:
            continue
        checker, var = match["checker"], match["var"]
        answer = i
        if not _defines("\n".join(lines[:-1]), var):     # defined in an earlier cell: that one is answered
            answer = next((j for j in range(i - 1, -1, -1) if cells[j]["cell_type"] == "code"
                           and _defines(_source(cells[j]), var)), None)
            if answer is None:
                raise AssignmentError(f"lesson {key}: {checker}({var}) but no cell defines {var}")
        name = checker.removeprefix("check_")
        found.append((answer, i, Exercise(key, name, checker, var, (points or {}).get(name, 1.0),
                                          _checker_takes_variant(checker))))
    return found


def solution_code(solutions: dict, exercise: Exercise) -> str:
    """The solutions notebook's answer to ``exercise``: its cell that runs the checker, less the checks."""
    call = re.compile(rf"^\s*(assert\s+)?{exercise.checker}\(")
    for cell in solutions["cells"]:
        src = _source(cell)
        if cell["cell_type"] == "code" and re.search(rf"\b{exercise.checker}\({exercise.var}\)", src) \
                and not src.lstrip().startswith(("from ", "import ")):
            code = "\n".join(ln for ln in src.rstrip().splitlines() if not call.match(ln)).strip("\n")
            imports = _imports_used(solutions, code)
            return "\n".join(imports + ([""] if imports else []) + [code])
    raise AssignmentError(f"the solutions notebook of lesson {exercise.lesson} has no answer to {exercise.checker} "
                          f"(a code cell calling {exercise.checker}({exercise.var}))")


def _imports_used(solutions: dict, code: str) -> list[str]:
    """The solutions notebook's import statements that ``code`` needs (the lesson may not have them)."""
    needed = []
    for cell in solutions["cells"]:
        src = _source(cell)
        if cell["cell_type"] != "code" or not src.lstrip().startswith(("from ", "import ")):
            continue
        for node in ast.parse(src).body:
            if not isinstance(node, (ast.Import, ast.ImportFrom)) or getattr(node, "module", "") == EXERCISES:
                continue
            names = [(a.asname or a.name).split(".")[0] for a in node.names]
            if any(re.search(rf"\b{n}\b", code) for n in names):
                needed.append(ast.unparse(node))
    return needed


# --- building ----------------------------------------------------------------------------------------
def _meta(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
          points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION,
            "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _cell(cell_type: str, cell_id: str, source: str, metadata: dict) -> dict:
    cell = {"cell_type": cell_type, "id": cell_id, "metadata": metadata, "source": source}
    if cell_type == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def test_source(exercise: Exercise) -> str:
    """The autograded test cell: the self-check's checker, asserted, and its hidden variant."""
    pts = f"{exercise.points:g} point{'s' if exercise.points != 1 else ''}"
    lines = [f"# Autograded ({pts}): the same check as the exercise's, so passing it there passes here.",
             f"from lenet_utils.lessons.exercises import {exercise.checker}",
             "",
             f"feedback = {exercise.checker}({exercise.var})",
             "assert feedback.passed, feedback.message"]
    if exercise.hidden:
        lines += ["### BEGIN HIDDEN TESTS",
                  f"feedback = {exercise.checker}({exercise.var}, variant={HIDDEN_VARIANT})",
                  'assert feedback.passed, "other inputs (a hidden test): " + feedback.message',
                  "### END HIDDEN TESTS"]
    return "\n".join(lines)


def build_source(lesson: dict, solutions: dict, key: str, points: dict[str, float] | None = None) -> dict:
    """The nbgrader source notebook of one lesson (a new dict; the lesson is not changed)."""
    exercises = lesson_exercises(lesson, key, points)
    if not exercises:
        raise AssignmentError(f"lesson {key} has no exercise (a code cell ending in check_x(answer))")
    known = {e.name for *_, e in exercises}
    unknown = set(points or {}) - known
    if unknown:
        raise AssignmentError(f"points.toml [\"{key}\"] names {sorted(unknown)}, which lesson {key} does not have "
                              f"(its exercises: {sorted(known)})")
    answers = {a: e for a, _, e in exercises}
    tests = {c: e for _, c, e in exercises}
    cells = []
    for i, cell in enumerate(lesson["cells"]):
        src, cid = _source(cell), cell.get("id") or f"cell-{i}"
        if i in answers:
            e = answers[i]
            lines = src.rstrip().splitlines()
            tail = [lines.pop()] if i in tests else []        # the self-check stays after the solution
            body = "\n".join(lines + ["### BEGIN SOLUTION", solution_code(solutions, e), "### END SOLUTION"] + tail)
            cells.append(_cell("code", cid, body, _meta(e.answer_id, solution=True)))
        else:
            cells.append(_cell(cell["cell_type"], cid, src, _meta(f"lesson-{cid}", locked=True)))
        if i in tests:
            e = tests[i]
            cells.append(_cell("code", f"{e.name}-test", test_source(e),
                               _meta(e.grade_id, grade=True, locked=True, points=e.points)))
    metadata = {k: copy.deepcopy(lesson["metadata"][k]) for k in NOTEBOOK_META if k in lesson["metadata"]}
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


@dataclass(frozen=True)
class Lesson:
    key: str               # "03"
    name: str              # "03_training.ipynb"
    path: Path
    solutions: Path


def find_lessons(notebooks: Path) -> list[Lesson]:
    """Every lesson in ``notebooks`` with a solutions notebook beside it (the others have no exercises)."""
    found = []
    for path in sorted(Path(notebooks).glob("*.ipynb")):
        match = LESSON.match(path.name)
        solutions = path.with_name(path.stem + ".solutions.ipynb")
        if match and not path.name.endswith(".solutions.ipynb") and solutions.is_file():
            found.append(Lesson(match["key"], path.name, path, solutions))
    if not found:
        raise AssignmentError(f"{notebooks}: no lesson (NN_name.ipynb with NN_name.solutions.ipynb beside it)")
    return found


def dumps(nb: dict) -> str:
    """A notebook as committed: sorted keys, one-space indent, a final newline (stable for diffs)."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def build(notebooks: Path, out: Path, points_file: Path | None = None) -> list[Path]:
    """Write ``out/lessonNN/NN_name.ipynb`` for each lesson with exercises; returns the files written."""
    points = load_points(points_file)
    lessons = find_lessons(notebooks)
    unknown = set(points) - {lesson.key for lesson in lessons}
    if unknown:
        raise AssignmentError(f"{points_file}: lessons {sorted(unknown)} do not exist in {notebooks}")
    written = []
    for lesson in lessons:
        nb = build_source(json.loads(lesson.path.read_text()), json.loads(lesson.solutions.read_text()),
                          lesson.key, points.get(lesson.key))
        target = Path(out) / assignment_name(lesson.key) / lesson.name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".ipynb.tmp")
        tmp.write_text(dumps(nb))
        tmp.replace(target)
        written.append(target)
    return written


# --- reading a source notebook back -------------------------------------------------------------------
def nbgrader_meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def graded_cells(source: dict) -> list[dict]:
    """The source notebook's autograded test cells, in order."""
    return [c for c in source["cells"] if nbgrader_meta(c).get("grade")]


def max_points(source: dict) -> float:
    return sum(float(nbgrader_meta(c).get("points", 0)) for c in graded_cells(source))


# --- the student's copy ---------------------------------------------------------------------------------
def nbgrader_config():
    """The nbgrader settings the course needs (also in assignments/nbgrader_config.py): a solution is
    replaced by a comment, not ``raise NotImplementedError()``, so the self-check gives its hint."""
    from traitlets.config import Config

    c = Config()
    c.ClearSolutions.code_stub = {"python": CODE_STUB}
    return c


def student_version(source: dict) -> dict:
    """What a student gets: solutions and hidden tests removed, outputs cleared, cells locked, with
    nbgrader's own preprocessors in ``nbgrader generate_assignment``'s order (less the database)."""
    import nbformat
    from nbgrader.preprocessors import (
        ClearHiddenTests,
        ClearMarkScheme,
        ClearOutput,
        ClearSolutions,
        ComputeChecksums,
        LockCells,
    )

    nb = nbformat.reads(json.dumps(source), as_version=4)
    config, resources = nbgrader_config(), {}
    for step in (LockCells, ClearSolutions, ClearOutput, ComputeChecksums, ClearHiddenTests, ClearMarkScheme,
                 ComputeChecksums):
        nb, resources = step(config=config).preprocess(nb, resources)
    return json.loads(nbformat.writes(nb))
