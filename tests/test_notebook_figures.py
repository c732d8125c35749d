"""Every figure in the lessons' prose has something behind it (issue 24 point 1, for the notebooks).

The markdown cells of every notebook in notebooks/ are scanned with tests/test_figures.py's scanner: a number
with a unit or a % (UNIT there), and here also a count ("7 times", "160 digits", "2 points": COUNT). A figure
inside a ``<!-- fig -->`` marker (scripts/figures.py renders each lesson's "Runs in" line) or on a line that
says "estimate" is skipped, as in the documents. Every other figure is a line of tests/data/notebook_figures.txt,
``notebook | context figure => how``, where ``how`` is either

- ``test_claims_NN.py::test_name`` (or ``test_notebook_claims.py::...``): a claims test that reads the figure
  against the notebook's executed outputs or a result file. This file proves it: the figure's digits changed,
  one number at a time, in a copy of the notebook, and that test must fail (and pass on the copy unchanged);
- ``cited: <source>``: a published figure; the cell that quotes it must name that source (checked here);
- or ``fact:``, ``target:``, ``setting:``, ``question:`` or ``not a figure:`` followed by the reason (a
  property of MNIST or of the network, a goal the lesson sets, a number the lesson chooses, an answer option of
  a predict-before-you-run question, a digit's plural such as "7s").

A solutions notebook's markdown cell that is identical to one of its lesson's is the lesson's text: its figures
are the lesson's (04b's solutions repeat the lesson); the solutions' own cells are scanned like a lesson.
A new figure, or a listed one no longer in the prose, fails here.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
import test_notebook_claims
from test_figures import UNIT, _figures_in

REPO = Path(__file__).resolve().parents[1]
COURSE = REPO / "notebooks"
LISTED = REPO / "tests" / "data" / "notebook_figures.txt"
COUNT = re.compile(r"(?<![\w.\-/#=])\d[\d,]*(?:\.\d+)?\s?(?:mistakes?|errors?|times|points?|digits|images|uploads|"
                   r"parameters|steps|batches|epochs|seeds|students|passes|writers)(?![\w])")
KINDS = ("cited", "fact", "target", "setting", "question", "not a figure")
TEST = re.compile(r"^(test_(?:claims_\w+|notebook_claims))\.py::(test_\w+)$")
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def notebooks() -> list[Path]:
    return sorted(COURSE.glob("*.ipynb"))


def prose_cells(path: Path) -> list[str]:
    """The notebook's markdown cells that are its own: a solutions cell identical to a lesson cell is left out."""
    cells = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]
    if path.name.endswith(".solutions.ipynb"):
        lesson = path.with_name(path.name.replace(".solutions.ipynb", ".ipynb"))
        shared = {c.source for c in nbformat.read(lesson, as_version=4).cells if c.cell_type == "markdown"}
        cells = [c for c in cells if c not in shared]
    return cells


def figures_of(name: str, cells: list[str]) -> list[str]:
    """'notebook | context figure' for each figure outside markers and estimate lines (as unbacked_figures.txt)."""
    text = "\n".join(cells)
    found = _figures_in(name, text) + _figures_in(name, text, COUNT)
    return [f"{name} | {left} {fig}".replace("|  ", "| ") for left, fig in found]


def listed() -> list[tuple[str, str]]:
    """(key, how) for each line of the list."""
    rows = []
    for line in LISTED.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, sep, how = line.rpartition(" => ")
            assert sep, f"{LISTED.name}: no ' => ' in {line!r}"
            rows.append((key, how.strip()))
    return rows


def test_every_figure_in_the_prose_is_listed_with_what_backs_it():
    now = Counter(f for path in notebooks() for f in figures_of(path.name, prose_cells(path)))
    have = Counter(key for key, _ in listed())
    new, gone = sorted((now - have).elements()), sorted((have - now).elements())
    assert not new, ("figures in the notebooks' prose with nothing behind them: assert them in a claims test "
                     f"(tests/test_claims_*.py) and list them in {LISTED.name} with that test, give the reason "
                     "they need no result (fact, target, setting, question, not a figure), mark the line an "
                     "estimate, or remove them:\n" + "\n".join(new))
    assert not gone, f"no longer in the notebooks: remove these lines from {LISTED.name}:\n" + "\n".join(gone)


def test_every_listed_figure_says_how_it_is_backed():
    bad = []
    for key, how in listed():
        kind, _, reason = how.partition(":")
        if TEST.match(how):
            module, name = TEST.match(how).groups()
            if not callable(getattr(_module(module), name, None)):
                bad.append(f"{key} => {how}: no such test")
        elif kind not in KINDS or len(reason.strip()) < 10:
            bad.append(f"{key} => {how}: say which test checks it, or '<kind>: <reason>' with kind one of {KINDS}")
        elif kind == "cited":
            cells = prose_cells(COURSE / key.split(" | ")[0])
            cells = [c for c in cells if re.search(_pattern(key, cells), c)]
            if not any(reason.strip() in " ".join(c.split()) for c in cells):
                bad.append(f"{key} => {how}: the cell that quotes it does not name {reason.strip()!r}")
    assert not bad, "\n".join(bad)


def _module(name: str):
    __import__(name)
    return sys.modules[name]


def mutations(cells: list[str], key: str) -> list[tuple[int, str]]:
    """(cell index, new source) for each number of the figure ``key``, its last digit changed, wherever the
    context and the figure stand together in ``cells``."""
    figure, pattern = _split(key)[1], _pattern(key, cells)
    out = []
    for number in NUMBER.finditer(figure):
        changed = figure[:number.end() - 1] + str((int(figure[number.end() - 1]) + 1) % 10) + figure[number.end():]
        for i, cell in enumerate(cells):
            new = re.sub(pattern, lambda m: m.group(0)[:-len(figure)] + changed, cell)   # noqa: B023
            if new != cell:
                out.append((i, new))
    return out


def _pattern(key: str, cells: list[str] | None = None) -> str:
    """A regular expression for the figure ``key`` where it stands in ``cells``: its context, then the figure.
    A context shorter than the scanner's 30 characters starts its line, if a line in ``cells`` starts so."""
    context, figure = _split(key)
    tail = (re.escape(context) + r"\s*" if context else "") + re.escape(figure)
    anchored = r"(?m)^[ \t]*" + tail
    if not context or (len(context) < 30 and any(re.search(anchored, c) for c in cells or [])):
        return anchored
    return tail


def _split(key: str) -> tuple[str, str]:
    """'notebook | context figure' -> (context, figure), the figure being the scanners' match at the end."""
    rest = key.split(" | ", 1)[1]
    for pattern in (UNIT, COUNT):
        found = [m for m in pattern.finditer(rest) if m.end() == len(rest)]
        if found:
            return rest[:found[-1].start()].strip(), found[-1].group(0)
    raise AssertionError(f"no figure at the end of {key!r}")


def fails_when_changed(test: Callable[[], None], notebook: str, key: str, folder: Path,
                       monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Why ``test`` does not back ``key`` (empty when it does): it must pass on the notebooks as committed and
    fail on a copy with each of the figure's numbers changed."""
    folder.mkdir(exist_ok=True)
    for path in notebooks():
        link = folder / path.name
        if not link.exists():
            link.symlink_to(path)
    for name, module in list(sys.modules.items()):     # test_claims_04b imports tests.test_notebook_claims
        if name.rpartition(".")[2].startswith("test_claims_") or name.rpartition(".")[2] == "test_notebook_claims":
            if hasattr(module, "NOTEBOOKS"):
                monkeypatch.setattr(module, "NOTEBOOKS", folder)
    source = COURSE / notebook
    nb = nbformat.read(source, as_version=4)
    own = prose_cells(source)
    indices = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source in own]
    found = mutations([nb.cells[i].source for i in indices], key)
    if not found:
        return [f"{key}: not found in {notebook}'s markdown"]
    test()                                              # passes on the notebooks as committed
    why = []
    for i, new in found:
        changed = nbformat.read(source, as_version=4)
        changed.cells[indices[i]].source = new
        target = folder / notebook
        target.unlink()
        nbformat.write(changed, target)
        try:
            test()
        except (AssertionError, pytest.fail.Exception):
            pass
        else:
            why.append(f"{key}: {test.__name__} still passes with it changed")
        finally:
            target.unlink()
            target.symlink_to(source)
    return why


def test_each_figure_a_claims_test_backs_fails_that_test_when_changed(tmp_path, monkeypatch):
    why = []
    for key, how in listed():
        if TEST.match(how):
            module, name = TEST.match(how).groups()
            test = getattr(_module(module), name)
            assert not inspect.signature(test).parameters, f"{how}: a claims test with fixtures cannot be run here"
            why += fails_when_changed(test, key.split(" | ")[0], key, tmp_path / "notebooks", monkeypatch)
    assert not why, "\n".join(why)


def test_the_guard_sees_counts_and_skips_markers_and_estimates(tmp_path, monkeypatch):
    cells = ["About 82% with no learning: 1,800 mistakes, in 12 s. A 7s looks like a 1.",
             "**Runs in:** <!-- fig:runs.01_mnist_data -->9 s<!-- /fig -->; about 30 min (an estimate).",
             "```\nfit(model, epochs=5)   # 40 s\n```"]
    assert figures_of("x.ipynb", cells) == ["x.ipynb | About 82%", "x.ipynb | learning: 1,800 mistakes, in 12 s",
                                            "x.ipynb | g: 1,800 mistakes, in 12 s. A 7s",
                                            "x.ipynb | About 82% with no learning: 1,800 mistakes"]
    assert _split("x.ipynb | with no learning: 1,800 mistakes") == ("with no learning:", "1,800 mistakes")
    assert mutations(["Two numbers: 37 to 362 s, and 37 to 362 s."], "x | numbers: 37 to 362 s") == [
        (0, "Two numbers: 38 to 362 s, and 37 to 362 s."), (0, "Two numbers: 37 to 363 s, and 37 to 362 s.")]


def test_a_test_that_does_not_read_the_figure_is_refused(tmp_path, monkeypatch):
    """The proof can fail: a test that never looks at the 82% does not back it; one that reads it does."""
    key = "01_mnist_data.ipynb | About 82%"

    def blind() -> None:
        assert test_notebook_claims.markdown("01_mnist_data.ipynb")

    def reads() -> None:
        assert "About 82%" in test_notebook_claims.markdown("01_mnist_data.ipynb")

    assert fails_when_changed(blind, "01_mnist_data.ipynb", key, tmp_path / "a", monkeypatch) == [
        f"{key}: blind still passes with it changed"]
    assert fails_when_changed(reads, "01_mnist_data.ipynb", key, tmp_path / "b", monkeypatch) == []
