"""The variants table (notebook 06): every reference variant on one budget and the same seeds,
as ``scripts/train_variants.py`` measured it; a lab run compared with it."""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...config import ConfigError, LeNetConfig
from ...paths import repo_root
from ...tables import html_table, markdown_table, points, text_table
from .files import FORMAT_VERSION, RunFileError, read_json, write_json, write_text
from .runs import BATCH_SIZE, DEFAULT_BUDGET, TRAIN_SIZE, RunRecord

TABLE_FORMAT = "lenet-utils-variants"     # the "format" results.json declares


@dataclass
class VariantResult:
    """One row of the variants table: a variant trained once per seed, same budget for all."""

    name: str
    why: str
    config: LeNetConfig
    params: int
    macs: int
    accs: list[float]            # validation accuracy per seed, in the table's seed order
    seconds: list[float]         # training seconds per seed (machine-dependent)
    losses: list[float] = field(default_factory=list, repr=False)  # per-batch loss averaged over the seeds

    @property
    def changes(self) -> str:
        return self.config.describe_changes()

    @property
    def label(self) -> str:
        return self.name

    @property
    def mean_acc(self) -> float:
        return sum(self.accs) / len(self.accs)

    @property
    def spread(self) -> float:
        """Best minus worst seed: how much of a difference luck alone makes."""
        return max(self.accs) - min(self.accs)

    @property
    def mean_seconds(self) -> float:
        return sum(self.seconds) / len(self.seconds)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "why": self.why, "config": self.config.to_dict(), "params": self.params,
                "macs": self.macs, "accs": [round(a, 6) for a in self.accs],
                "seconds": [round(s, 2) for s in self.seconds], "losses": [round(v, 5) for v in self.losses]}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> VariantResult:
        if not isinstance(values, dict):
            raise ValueError(f"a result must be a JSON object, got {type(values).__name__}")
        for key in ("name", "config", "params", "macs", "accs", "seconds"):
            if key not in values:
                raise ValueError(f"it lacks '{key}'")
        if not values["accs"] or not all(isinstance(a, (int, float)) for a in values["accs"]):
            raise ValueError("'accs' must be a non-empty list of accuracies")
        try:
            config = LeNetConfig.from_dict(values["config"])
        except (ConfigError, TypeError, AttributeError) as err:
            raise ValueError(f"its config is unusable: {err}") from None
        return cls(values["name"], values.get("why", ""), config, values["params"], values["macs"],
                   list(values["accs"]), list(values["seconds"]), list(values.get("losses", [])))


@dataclass(frozen=True)
class Comparison:
    """A run set against the variants table."""

    run: RunRecord
    reference: VariantResult          # the table's reference row
    same_variant: VariantResult | None  # the table's row with the run's config, if there is one
    same_budget: bool                 # trained for as many batches (of the same size) as the table
    table_steps: int = DEFAULT_BUDGET  # the table's budget, in batches
    table_batch: int = BATCH_SIZE
    table_train_size: int = TRAIN_SIZE

    @property
    def delta(self) -> float | None:
        """Run accuracy minus the table reference's mean, or ``None`` when the budgets differ."""
        return self.run.val_acc - self.reference.mean_acc if self.same_budget else None

    @property
    def beyond_noise(self) -> bool:
        """Whether the difference from the reference exceeds what changing the seed alone did."""
        return self.delta is not None and abs(self.delta) > self.reference.spread

    def __str__(self) -> str:
        run, ref = self.run, self.reference
        lines = [f"your run ({run.changes}): {run.val_acc:.2%} after {run.steps} batches, seed {run.seed}"]
        if not self.same_budget:
            lines.append(f"the table trained every variant for {self.table_steps} batches of {self.table_batch} "
                         f"on {self.table_train_size:,} images; this run had {run.steps} batches of {run.batch_size} "
                         f"on {run.train_size:,}, so its accuracy is not comparable. "
                         "Train it on the table's budget to compare.")
            return "\n".join(lines)
        lines.append(f"table reference: {ref.mean_acc:.2%} (seeds ranged over {100 * ref.spread:.2f} points)")
        if self.same_variant is not None and self.same_variant.name != "reference":
            v = self.same_variant
            lines.append(f"table '{v.name}' (the same config): {v.mean_acc:.2%} "
                         f"(seeds ranged over {100 * v.spread:.2f} points)")
        verdict = ("more than the seed-to-seed spread: likely a real effect" if self.beyond_noise
                   else "within the seed-to-seed spread: could be luck")
        lines.append(f"difference from the reference: {points(self.delta)} points, {verdict}")
        return "\n".join(lines)

    __repr__ = __str__


@dataclass
class VariantTable:
    """What ``scripts/train_variants.py`` measured: every variant on one budget and the same seeds."""

    results: list[VariantResult]
    steps: int                    # batches each run trained
    batch_size: int
    seeds: list[int]
    meta: dict[str, Any] = field(default_factory=dict)  # torch version, threads, device, date, command

    columns = ("variant", "changes from reference", "params", "MACs", "val acc (mean)", "seed range",
               "vs reference", "seconds")
    _right = {2, 3, 4, 5, 6, 7}

    def __post_init__(self) -> None:
        if not any(r.name == "reference" for r in self.results):
            raise ValueError("a variants table needs a 'reference' row to compare against")

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[VariantResult]:
        return iter(self.results)

    def __getitem__(self, name: str) -> VariantResult:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(f"no variant {name!r} in the table; it has {', '.join(r.name for r in self.results)}")

    @property
    def reference(self) -> VariantResult:
        return self["reference"]

    @property
    def train_size(self) -> int:
        """Images in the training split the table's runs drew batches from."""
        return self.meta.get("train_size", TRAIN_SIZE)

    def ranked(self) -> list[VariantResult]:
        return sorted(self.results, key=lambda r: (-r.mean_acc, r.params))

    def find(self, config: LeNetConfig) -> VariantResult | None:
        """The row trained with exactly ``config``, if any."""
        return next((r for r in self.results if r.config == config), None)

    def overlapping(self, name: str) -> list[str]:
        """The other variants whose seed range overlaps ``name``'s: on these seeds, the table cannot
        tell them apart from it."""
        row = self[name]
        return [r.name for r in self.ranked() if r.name != name
                and min(r.accs) <= max(row.accs) and min(row.accs) <= max(r.accs)]

    def separated_from_reference(self) -> list[str]:
        """Variants whose seed range does not overlap the reference's: every seed better than the
        reference's best, or every seed worse than its worst. Differences luck alone did not make."""
        close = set(self.overlapping("reference"))
        return [r.name for r in self.ranked() if r.name != "reference" and r.name not in close]

    def compare(self, run: RunRecord) -> Comparison:
        same_budget = (run.steps == self.steps and run.batch_size == self.batch_size
                       and run.train_size == self.train_size)
        return Comparison(run, self.reference, self.find(run.config), same_budget, self.steps, self.batch_size,
                          self.train_size)

    def delta_to_reference(self, run: RunRecord) -> float | None:
        return self.compare(run).delta

    # rendering
    def _cells(self) -> list[tuple[str, ...]]:
        ref = self.reference.mean_acc
        return [(r.name, r.changes, f"{r.params:,}", f"{r.macs:,}", f"{r.mean_acc:.2%}",
                 f"{min(r.accs):.2%} - {max(r.accs):.2%}", points(r.mean_acc - ref) if r.name != "reference" else "",
                 f"{r.mean_seconds:.1f}")
                for r in self.ranked()]

    def caption(self) -> str:
        m = self.meta
        return (f"Each variant trained for {self.steps} batches of {self.batch_size} "
                f"({self.steps * self.batch_size / self.train_size:.2f} epoch) from seeds "
                f"{', '.join(map(str, self.seeds))}; "
                f"validation accuracy on {m.get('val_size', 5_000):,} MNIST validation digits. "
                f"'vs reference' is in percentage points. Seconds: mean training time per run on "
                f"{m.get('device', 'cpu')} with {m.get('threads', '?')} threads (machine-dependent)"
                + self._load_note() + ".")

    def _load_note(self) -> str:
        load, cpus = self.meta.get("load_average", 0), self.meta.get("cpus") or 0
        if cpus and load > cpus:
            return (f"; the machine was shared while they were measured (load average {load:g} on {cpus} CPUs), "
                    "so they are inflated: time your own runs in the lab")
        return ""

    def __str__(self) -> str:
        return text_table(self.columns, self._cells(), right=self._right) + "\n" + self.caption()

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return (html_table(self.columns, self._cells(), right=self._right, css="lenet-variants")
                + f"<p style='font-size:90%'>{html.escape(self.caption())}</p>")

    def to_markdown(self) -> str:
        m = self.meta
        prov = (f"Produced by `{m.get('command', 'scripts/train_variants.py')}` on {m.get('date', '?')} "
                f"(torch {m.get('torch', '?')}, {m.get('threads', '?')} CPU threads, "
                f"{m.get('total_seconds', 0):.0f} s in all).")
        return "\n".join(["# LeNet-5 variants on one budget", "", self.caption(), "",
                          markdown_table(self.columns, self._cells(), right=self._right), "", prov, ""])

    # files
    def to_dict(self) -> dict[str, Any]:
        return {"format": TABLE_FORMAT, "version": FORMAT_VERSION, "steps": self.steps,
                "batch_size": self.batch_size, "seeds": list(self.seeds), "meta": self.meta,
                "results": [r.to_dict() for r in self.results]}

    def save(self, folder: str | Path) -> tuple[Path, Path]:
        """Write ``results.json`` (everything) and ``results.md`` (the table) into ``folder``."""
        folder = Path(folder)
        return (write_json(folder / "results.json", self.to_dict()),
                write_text(folder / "results.md", self.to_markdown()))

    @classmethod
    def load(cls, path: str | Path | None = None) -> VariantTable:
        """Read ``results.json`` (default: the course's committed table, ``data/variants/results.json``)."""
        path = Path(path) if path is not None else default_table_path()
        payload = read_json(path, TABLE_FORMAT, "the results of scripts/train_variants.py")
        try:
            results = [VariantResult.from_dict(v) for v in payload["results"]]
            return cls(results, int(payload["steps"]), int(payload["batch_size"]), list(payload["seeds"]),
                       dict(payload.get("meta", {})))
        except (KeyError, ValueError, TypeError) as err:
            raise RunFileError(f"{path} is damaged ({err}). Run `python scripts/train_variants.py` "
                               "to write it again.") from None


def default_table_path() -> Path:
    """The committed variants table: ``<repo>/data/variants/results.json`` (course content, not user data)."""
    root = repo_root()
    if root is None:
        raise RunFileError("the variants table ships with the course repository, and this lenet_utils is a plain "
                           "install. Clone the course (git clone ...; pip install -e .) or pass the path of a "
                           "results.json to VariantTable.load(path).")
    return root / "data" / "variants" / "results.json"


def load_variant_table(path: str | Path | None = None) -> VariantTable:
    """The reference-variants table; see :meth:`VariantTable.load`."""
    return VariantTable.load(path)


def course_table() -> VariantTable | None:
    """The committed table, or ``None`` where there is none to read (a plain install): the lab then
    works without comparisons."""
    try:
        return load_variant_table()
    except RunFileError:
        return None
