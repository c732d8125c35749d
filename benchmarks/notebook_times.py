"""Wall time of the notebook series, each run top to bottom in a fresh kernel.

The numbered lessons (``notebooks/0*.ipynb``, not their ``*.solutions.ipynb``) are copied into a
temporary folder and executed there with nbclient, so the committed notebooks are never rewritten.
A notebook's time includes starting its kernel, as it does for a student. Not a test: a notebook
that fails is reported as failed, with its error, and the others still run.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"


def numbered_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    return sorted(p for p in folder.glob("0*.ipynb") if not p.name.endswith(".solutions.ipynb"))


def measure(timeout_s: int = 900, folder: Path = NOTEBOOKS) -> dict:
    import nbformat
    from nbclient import NotebookClient

    per_notebook: dict[str, float] = {}
    failures: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="lenet-bench-notebooks-") as tmp:
        work = Path(tmp) / "notebooks"
        shutil.copytree(folder, work, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        for path in numbered_notebooks(work):
            nb = nbformat.read(path, as_version=4)
            client = NotebookClient(nb, timeout=timeout_s, kernel_name="python3",
                                    resources={"metadata": {"path": str(work)}})
            start = time.perf_counter()
            try:
                client.execute()
            except Exception as err:  # CellExecutionError, timeouts, a dead kernel: report, go on
                failures[path.name] = f"{type(err).__name__}: {(str(err).strip().splitlines() or [''])[-1][:200]}"
            per_notebook[path.name] = time.perf_counter() - start
    return {
        "notebooks_total_s": None if failures or not per_notebook else sum(per_notebook.values()),
        "details": {"seconds": per_notebook, "failed": failures,
                    "measured": sorted(per_notebook), "count": len(per_notebook)},
    }
