"""The same assignments in Otter-Grader's assign format, for courses whose grades go to an LMS.

Each nbgrader source assignment (:mod:`lenet_utils.term.assignments`) becomes an Otter "assign"
notebook: an ``# ASSIGNMENT CONFIG`` cell, then the lesson, with each exercise a question
(``# BEGIN QUESTION`` ... ``# END QUESTION``) holding its answer cell (a ``# BEGIN SOLUTION`` block,
the solution itself between ``# BEGIN SOLUTION`` / ``# END SOLUTION`` lines) and its tests
(``# BEGIN TESTS``): the same check as nbgrader's test cell, and the hidden variant as a hidden
test. A question is all or nothing, as an nbgrader test cell is, so both graders give the same
points. ``otter assign`` turns it into the student's notebook and the autograder zip; ``otter run``
(or ``otter.api.grade_submission``) grades without Docker.
"""

from __future__ import annotations

import json
from pathlib import Path

from .assignments import dumps, nbgrader_meta

ASSIGNMENT_CONFIG = """# ASSIGNMENT CONFIG
name: {name}
init_cell: false
check_all_cell: false
export_cell: false
run_tests: false
generate: true
"""


def _text(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _raw(text: str) -> dict:
    return {"cell_type": "raw", "metadata": {}, "source": text}


def _code(text: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": text}


def _tests(test_source: str) -> list[str]:
    """nbgrader's test cell -> Otter's test cells: the visible check, then the hidden variant (if any)."""
    body = [ln for ln in test_source.splitlines() if not ln.startswith("# Autograded")]
    imports = [ln for ln in body if ln.startswith("from ")]
    if "### BEGIN HIDDEN TESTS" not in body:
        return ["\n".join(ln for ln in body if ln.strip())]
    start, end = body.index("### BEGIN HIDDEN TESTS"), body.index("### END HIDDEN TESTS")
    visible = [ln for ln in body[:start] if ln.strip()]
    hidden = ["# HIDDEN", *imports, *body[start + 1:end]]
    return ["\n".join(visible), "\n".join(hidden)]


def otter_notebook(source: dict, name: str) -> dict:
    """The Otter assign notebook of one nbgrader source notebook."""
    cells = [_raw(ASSIGNMENT_CONFIG.format(name=name))]
    open_question = False
    for cell in source["cells"]:
        meta = nbgrader_meta(cell)
        if meta.get("solution"):
            test_id = meta["grade_id"].removesuffix("_answer")
            points = next(float(nbgrader_meta(c)["points"]) for c in source["cells"]
                          if nbgrader_meta(c).get("grade") and nbgrader_meta(c)["grade_id"] == test_id)
            cells.append(_raw(f"# BEGIN QUESTION\nname: {test_id}\npoints: {points:g}\nall_or_nothing: true\n"
                              "check_cell: false"))
            cells.append(_raw("# BEGIN SOLUTION"))
            text = _text(cell).replace("### BEGIN SOLUTION", "# BEGIN SOLUTION")
            cells.append(_code(text.replace("### END SOLUTION", "# END SOLUTION")))
            open_question = True
        elif meta.get("grade"):
            cells += [_raw("# END SOLUTION"), _raw("# BEGIN TESTS")]
            cells += [_code(t) for t in _tests(_text(cell))]
            cells += [_raw("# END TESTS"), _raw("# END QUESTION")]
            open_question = False
        elif cell["cell_type"] == "code":
            cells.append(_code(_text(cell)))
        else:
            cells.append({"cell_type": cell["cell_type"], "metadata": {}, "source": _text(cell)})
    if open_question:
        raise ValueError(f"{name}: an answer cell without a test cell after it")
    return {"cells": cells, "metadata": source.get("metadata", {}), "nbformat": 4, "nbformat_minor": 5}


def export(source_dir: Path, out: Path) -> list[Path]:
    """Write ``out/lessonNN/NN_name.ipynb`` (Otter assign format) for each source assignment."""
    written = []
    for path in sorted(Path(source_dir).glob("lesson*/*.ipynb")):
        nb = otter_notebook(json.loads(path.read_text()), path.parent.name)
        for i, cell in enumerate(nb["cells"]):
            cell["id"] = f"otter-{i:03d}"
        target = Path(out) / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dumps(nb))
        written.append(target)
    return written
