"""The layer lab's leaderboard (notebook 06): a session's runs ranked, saved to and loaded from JSON."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...paths import data_root
from ...tables import html_table, points, text_table
from .files import FORMAT_VERSION, RunFileError, read_json, write_json
from .runs import RunRecord, now

if TYPE_CHECKING:
    from .variant_table import VariantTable

RUNS_FORMAT = "lenet-utils-runs"          # the "format" a runs file declares


class Leaderboard:
    """Runs ranked by validation accuracy, each shown by how it differs from the reference.

    ``table`` (a :class:`VariantTable`) adds how each run compares with the reference variants.
    """

    columns = ("rank", "run", "changes from reference", "params", "batches", "seed", "val acc",
               "vs table reference", "seconds")

    def __init__(self, runs: Iterable[RunRecord] = (), table: VariantTable | None = None):
        self.runs: list[RunRecord] = []
        self.table = table
        for run in runs:
            self.add(run)

    def add(self, run: RunRecord) -> RunRecord:
        """Append ``run``, naming it ``"run N"`` when it has no name."""
        if not isinstance(run, RunRecord):
            raise TypeError(f"a leaderboard holds RunRecords, not {type(run).__name__}")
        if not run.name:
            run.name = f"run {len(self.runs) + 1}"
        self.runs.append(run)
        return run

    def merge(self, runs: Iterable[RunRecord], source: str) -> list[RunRecord]:
        """Add runs from a file ``source`` ("group3"), named after it ("group3/run 1"), so a class can
        pool its files; runs already here (the same in all but name and curve) are not added twice."""
        known = {_identity(r) for r in self.runs}
        new = [r for r in runs if _identity(r) not in known]
        for r in new:
            if not r.name.startswith(f"{source}/"):
                r.name = f"{source}/{r.name}" if r.name else source
            self.add(r)
        return new

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self) -> Iterator[RunRecord]:
        return iter(self.runs)

    def ranked(self) -> list[RunRecord]:
        """Best validation accuracy first; ties go to the smaller network."""
        return sorted(self.runs, key=lambda r: (-r.val_acc, r.params))

    def rows(self) -> list[dict[str, Any]]:
        """One dict per run, best first, with the cells the table shows."""
        out = []
        for rank, run in enumerate(self.ranked(), start=1):
            delta = self.table.delta_to_reference(run) if self.table is not None else None
            out.append({"rank": rank, "run": run.name, "changes from reference": run.changes,
                        "params": run.params, "batches": run.steps, "seed": run.seed, "val acc": run.val_acc,
                        "vs table reference": delta, "seconds": run.seconds, "stopped": run.stopped})
        return out

    # rendering: the "vs table reference" column only when there is a table to compare with
    def _columns(self) -> tuple[str, ...]:
        return self.columns if self.table is not None else tuple(c for c in self.columns if c != "vs table reference")

    def _cells(self) -> list[tuple[str, ...]]:
        cells = []
        for r in self.rows():
            row = [str(r["rank"]), r["run"], r["changes from reference"], f"{r['params']:,}",
                   f"{r['batches']}" + (" (stopped)" if r["stopped"] else ""), str(r["seed"]), f"{r['val acc']:.2%}"]
            if self.table is not None:
                row.append(points(r["vs table reference"]))
            cells.append((*row, f"{r['seconds']:.1f}"))
        return cells

    def _right(self) -> set[int]:
        return {0} | set(range(3, len(self._columns())))

    def __str__(self) -> str:
        if not self.runs:
            return "no runs yet"
        return text_table(self._columns(), self._cells(), right=self._right()) + self._footnote()

    __repr__ = __str__

    def _repr_html_(self) -> str:
        if not self.runs:
            return "<p class='lenet-leaderboard'><i>No runs yet: press train.</i></p>"
        note = html.escape(self._footnote().strip())
        return (html_table(self._columns(), self._cells(), right=self._right(), css="lenet-leaderboard")
                + (f"<p style='font-size:90%'>{note}</p>" if note else ""))

    def _footnote(self) -> str:
        if self.table is None:
            return ""
        return (f"\n'vs table reference': validation accuracy minus the reference's mean in the variants table "
                f"({self.table.reference.mean_acc:.2%}, {self.table.steps} batches, seeds "
                f"{', '.join(map(str, self.table.seeds))}), in percentage points; '-' where the run's budget differs.")

    # saving and loading
    def save(self, path: str | Path | None = None) -> Path:
        """Write the runs to a JSON file (default ``<data root>/runs/layer_lab.json``), atomically."""
        path = Path(path) if path is not None else default_runs_path()
        payload = {"format": RUNS_FORMAT, "version": FORMAT_VERSION, "saved": now(),
                   "runs": [r.to_dict() for r in self.runs]}
        return write_json(path, payload)

    @classmethod
    def load(cls, path: str | Path | None = None, table: VariantTable | None = None) -> Leaderboard:
        """Read runs saved by :meth:`save`. A bad file raises :class:`RunFileError` saying why."""
        return cls(load_runs(path), table=table)


def _identity(run: RunRecord) -> str:
    """A run for de-duplicating loaded files: everything but its name and curve."""
    return json.dumps({k: v for k, v in run.to_dict().items() if k not in ("losses", "name")}, sort_keys=True)


def default_runs_path() -> Path:
    """Where the lab saves runs unless told otherwise: ``<data root>/runs/layer_lab.json``."""
    return data_root() / "runs" / "layer_lab.json"


def load_runs(path: str | Path | None = None) -> list[RunRecord]:
    """The runs in a file written by :meth:`Leaderboard.save`."""
    path = Path(path) if path is not None else default_runs_path()
    payload = read_json(path, RUNS_FORMAT, "a runs file saved by the layer lab (Leaderboard.save)")
    runs = payload.get("runs")
    if not isinstance(runs, list):
        raise RunFileError(f"{path}: 'runs' must be a list of runs. Save the runs again from the layer lab.")
    records = []
    for i, values in enumerate(runs, start=1):
        try:
            records.append(RunRecord.from_dict(values))
        except (ValueError, TypeError) as err:
            raise RunFileError(f"{path}: run {i} is unusable: {err}. Fix or delete that run in the file, "
                               "or save the runs again from the layer lab.") from None
    return records
