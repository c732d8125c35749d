"""A pytest plugin for ``make test-notebooks``: keep what nbval's fresh run printed.

nbval executes every notebook afresh and compares each cell's output with the committed one, but
skips the comparison for cells tagged ``nbval-ignore-output`` (freshly trained numbers) and then
throws the fresh outputs away. With ``LENET_FRESH_NOTEBOOKS=<folder>`` this plugin writes each
notebook nbval ran into that folder, with this run's outputs in place of the committed ones, so
``tests/test_notebook_claims.py`` (``LENET_NOTEBOOKS=<folder>``) checks the lessons' claims against
this run too, not only against the outputs someone last committed.

    LENET_FRESH_NOTEBOOKS=build/notebooks-run python -m pytest --nbval -p tests.nbval_outputs notebooks
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

_RAN: dict[str, object] = {}  # notebook path -> nbval's IPyNbFile, whose .nb its cells update


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    yield
    fresh = getattr(item, "test_outputs", None)  # set by nbval's IPyNbCell.runtest
    if fresh is not None and hasattr(item, "cell"):
        item.cell.outputs = fresh  # after nbval's comparison: it only changes what is written below
        _RAN[str(item.parent.path)] = item.parent


def pytest_sessionfinish(session: pytest.Session) -> None:
    folder = os.environ.get("LENET_FRESH_NOTEBOOKS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for path, notebook in _RAN.items():
        nbformat.write(notebook.nb, Path(folder) / Path(path).name)
