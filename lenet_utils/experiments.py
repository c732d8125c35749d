"""Experiments with LeNet-5 variants: train one on a short budget, keep a record, rank the records.

* :func:`train_variant`        one config, one seed, a budget in batches -> a :class:`RunRecord`
* :class:`Leaderboard`         a session's runs, best first; saved to and loaded from a JSON file
* :data:`REFERENCE_VARIANTS`   the variants ``scripts/train_variants.py`` trains on one budget and seeds
* :class:`VariantTable`        that script's results (``data/variants/results.json``); a run compared to it
* :func:`plot_runs`            training-loss curves overlaid (``ax=None``, returns the axes)

The layer lab (``widgets/layer_lab.py``) is a thin front end over this module.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import html
import json
import math
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from .model import ConfigError, LeNet5, LeNetConfig
from .paths import data_root, repo_root
from .summary import layer_summary

RUNS_FORMAT = "lenet-utils-runs"          # a leaderboard saved by the lab
TABLE_FORMAT = "lenet-utils-variants"     # the reference-variants table written by the script
FORMAT_VERSION = 1
BATCH_SIZE = 128
TRAIN_SIZE = 60_000
STEPS_PER_EPOCH = math.ceil(TRAIN_SIZE / BATCH_SIZE)  # 469 batches of 128 are one pass over MNIST
DEFAULT_BUDGET = (STEPS_PER_EPOCH + 1) // 2  # 235: half an epoch, the table's budget and the lab's default


class RunFileError(ValueError):
    """A runs or results file that cannot be used; the message names the file, the problem and the fix."""


# --- one run --------------------------------------------------------------------------------
@dataclass
class RunRecord:
    """One trained variant: its config, the budget it got and what it scored on the 10,000 test digits."""

    config: LeNetConfig
    steps: int                     # batches actually trained (less than budget when stopped)
    budget: int                    # batches asked for
    seed: int                      # initial weights and batch order
    test_acc: float                # on the full test split, after training
    test_loss: float
    seconds: float                 # training wall time (without the test pass); machine-dependent
    params: int
    macs: int                      # multiply-accumulates per image
    losses: list[float] = field(default_factory=list, repr=False)  # training loss of every batch: the curve
    batch_size: int = BATCH_SIZE
    train_size: int = TRAIN_SIZE   # images in the training split it drew batches from
    name: str = ""                 # a label: the variant's name, or "run 3" in the lab
    device: str = "cpu"
    created: str = ""              # ISO time

    @property
    def changes(self) -> str:
        """How it differs from the reference: ``"pool=max"``, or ``"reference"``."""
        return self.config.describe_changes()

    @property
    def label(self) -> str:
        """For legends: ``"run 2: pool=max"``."""
        return f"{self.name}: {self.changes}" if self.name else self.changes

    @property
    def epochs(self) -> float:
        """The budget spent, in passes over the training split (1.0 is one epoch)."""
        return self.steps * self.batch_size / max(self.train_size, 1)

    @property
    def stopped(self) -> bool:
        return self.steps < self.budget

    @property
    def train_loss(self) -> float:
        """Mean training loss over the last tenth of the batches (one batch is too noisy)."""
        if not self.losses:
            return float("nan")
        tail = self.losses[-max(1, len(self.losses) // 10):]
        return sum(tail) / len(tail)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["config"] = self.config.to_dict()
        out["losses"] = [round(v, 5) for v in self.losses]
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "RunRecord":
        """The inverse of :meth:`to_dict`; raises ``ValueError`` naming the first bad field."""
        if not isinstance(values, dict):
            raise ValueError(f"a run must be a JSON object, got {type(values).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        missing = [f.name for f in dataclasses.fields(cls)
                   if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                   and f.name not in values]
        if missing:
            raise ValueError(f"the run lacks {', '.join(missing)}")
        kwargs = {k: v for k, v in values.items() if k in known}
        config = kwargs.pop("config")
        if not isinstance(config, dict):
            raise ValueError("'config' must be a JSON object of LeNetConfig settings")
        try:
            kwargs["config"] = LeNetConfig.from_dict(config)
        except ConfigError as err:
            raise ValueError(f"its config is impossible: {err}") from None
        except TypeError as err:
            raise ValueError(f"its config is malformed: {err}") from None
        for name in ("steps", "budget", "seed", "params", "macs", "batch_size", "train_size"):
            if name in kwargs and not (isinstance(kwargs[name], int) and not isinstance(kwargs[name], bool)):
                raise ValueError(f"'{name}' must be a whole number, got {kwargs[name]!r}")
        for name in ("test_acc", "test_loss", "seconds"):
            if not isinstance(kwargs[name], (int, float)) or isinstance(kwargs[name], bool):
                raise ValueError(f"'{name}' must be a number, got {kwargs[name]!r}")
        if not isinstance(kwargs.get("losses", []), list) or not all(
                isinstance(v, (int, float)) for v in kwargs.get("losses", [])):
            raise ValueError("'losses' must be a list of numbers")
        return cls(**kwargs)


def budget_steps(epochs: float, train_size: int = TRAIN_SIZE, batch_size: int = BATCH_SIZE) -> int:
    """A budget in epochs -> batches, at least 1: ``budget_steps(0.5)`` is 235 on MNIST."""
    if not isinstance(epochs, (int, float)) or isinstance(epochs, bool) or not epochs > 0:
        raise ValueError(f"a budget must be a positive number of epochs, got {epochs!r}")
    return max(1, math.floor(epochs * math.ceil(train_size / batch_size) + 0.5))  # halves round up, not to even


def train_variant(config: LeNetConfig | None = None, steps: int = DEFAULT_BUDGET, seed: int = 0, *,
                  train=None, test=None, batch_size: int = BATCH_SIZE,
                  step_callback: Callable[[Any], bool | None] | None = None,
                  device: str = "auto", name: str = "") -> RunRecord:
    """Train ``config`` (the reference when ``None``) for ``steps`` batches from seed ``seed``, then
    score it on the whole test split.

    The recipe is the course's (SGD with Nesterov momentum, one-cycle schedule over the budget),
    so variants differ only in their layers. ``step_callback(history)`` runs after every batch;
    returning ``False`` stops the run early (the record keeps the batches done). ``train`` and
    ``test`` default to MNIST's splits.
    """
    from .data import load_mnist
    from .training import TrainConfig, evaluate, fit, set_seed

    config = config or LeNetConfig()
    if not isinstance(config, LeNetConfig):
        raise TypeError(f"config must be a LeNetConfig, not {type(config).__name__}")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps must be a whole number of batches >= 1, got {steps!r}")
    train = load_mnist("train") if train is None else train
    test = load_mnist("test") if test is None else test
    per_epoch = math.ceil(len(train) / batch_size)
    recipe = TrainConfig(epochs=math.ceil(steps / per_epoch), batch_size=batch_size, max_steps=steps, seed=seed)

    set_seed(seed)                      # the initial weights
    model = LeNet5(config)
    history = fit(model, train, None, recipe, step_callback=step_callback, progress=False, device=device)
    scored = evaluate(model, test)      # the full test split: about 0.2 s on a laptop CPU
    table = layer_summary(config)
    return RunRecord(config=config, steps=history.steps_done, budget=steps, seed=seed,
                     test_acc=scored.accuracy, test_loss=scored.loss, seconds=history.seconds,
                     params=table.total_params, macs=table.total_macs, losses=list(history.step_losses),
                     batch_size=batch_size, train_size=len(train), name=name, device=history.device,
                     created=_now())


# --- a session's runs -----------------------------------------------------------------------
class Leaderboard:
    """Runs ranked by test accuracy, each shown by how it differs from the reference.

    ``table`` (a :class:`VariantTable`) adds how each run compares with the reference variants.
    """

    columns = ("rank", "run", "changes from reference", "params", "batches", "seed", "test acc",
               "vs table reference", "seconds")

    def __init__(self, runs: Iterable[RunRecord] = (), table: "VariantTable | None" = None):
        self.runs: list[RunRecord] = []
        self.table = table
        for run in runs:
            self.add(run)

    def add(self, run: RunRecord) -> RunRecord:
        if not isinstance(run, RunRecord):
            raise TypeError(f"a leaderboard holds RunRecords, not {type(run).__name__}")
        if not run.name:
            run.name = f"run {len(self.runs) + 1}"
        self.runs.append(run)
        return run

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self):
        return iter(self.runs)

    def ranked(self) -> list[RunRecord]:
        """Best test accuracy first; ties go to the smaller network."""
        return sorted(self.runs, key=lambda r: (-r.test_acc, r.params))

    @property
    def best(self) -> RunRecord | None:
        ranked = self.ranked()
        return ranked[0] if ranked else None

    @property
    def _columns(self) -> tuple[str, ...]:
        return self.columns if self.table is not None else tuple(c for c in self.columns if c != "vs table reference")

    def rows(self) -> list[dict[str, Any]]:
        """One dict per run, best first, with the cells the table shows."""
        out = []
        for rank, run in enumerate(self.ranked(), start=1):
            delta = self.table.delta_to_reference(run) if self.table is not None else None
            out.append({"rank": rank, "run": run.name, "changes from reference": run.changes,
                        "params": run.params, "batches": run.steps, "seed": run.seed, "test acc": run.test_acc,
                        "vs table reference": delta, "seconds": run.seconds, "stopped": run.stopped})
        return out

    def _cells(self) -> list[tuple[str, ...]]:
        cells = []
        for r in self.rows():
            row = [str(r["rank"]), r["run"], r["changes from reference"], f"{r['params']:,}",
                   f"{r['batches']}" + (" (stopped)" if r["stopped"] else ""), str(r["seed"]), f"{r['test acc']:.2%}"]
            if self.table is not None:
                row.append(_points(r["vs table reference"]))
            cells.append((*row, f"{r['seconds']:.1f}"))
        return cells

    def _right(self) -> set[int]:
        return {0} | set(range(3, len(self._columns)))

    def __str__(self) -> str:
        if not self.runs:
            return "no runs yet"
        return _text_table(self._columns, self._cells(), right=self._right()) + self._footnote()

    __repr__ = __str__

    def _repr_html_(self) -> str:
        if not self.runs:
            return "<p class='lenet-leaderboard'><i>No runs yet: press train.</i></p>"
        note = html.escape(self._footnote().strip())
        return (_html_table(self._columns, self._cells(), right=self._right(), css="lenet-leaderboard")
                + (f"<p style='font-size:90%'>{note}</p>" if note else ""))

    def _footnote(self) -> str:
        if self.table is None:
            return ""
        return (f"\n'vs table reference': test accuracy minus the reference's mean in the variants table "
                f"({self.table.reference.mean_acc:.2%}, {self.table.steps} batches, seeds "
                f"{', '.join(map(str, self.table.seeds))}), in percentage points; '-' where the run's budget differs.")

    # saving and loading
    def save(self, path: str | Path | None = None) -> Path:
        """Write the runs to a JSON file (default ``<data root>/runs/layer_lab.json``), atomically."""
        path = Path(path) if path is not None else default_runs_path()
        payload = {"format": RUNS_FORMAT, "version": FORMAT_VERSION, "saved": _now(),
                   "runs": [r.to_dict() for r in self.runs]}
        return _write_json(path, payload)

    @classmethod
    def load(cls, path: str | Path | None = None, table: "VariantTable | None" = None) -> "Leaderboard":
        """Read runs saved by :meth:`save`. A bad file raises :class:`RunFileError` saying why."""
        return cls(load_runs(path), table=table)


def default_runs_path() -> Path:
    """Where the lab saves runs unless told otherwise: ``<data root>/runs/layer_lab.json``."""
    return data_root() / "runs" / "layer_lab.json"


def load_runs(path: str | Path | None = None) -> list[RunRecord]:
    """The runs in a file written by :meth:`Leaderboard.save`."""
    path = Path(path) if path is not None else default_runs_path()
    payload = _read_json(path, RUNS_FORMAT, "a runs file saved by the layer lab (Leaderboard.save)")
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


# --- the reference variants -----------------------------------------------------------------
@dataclass(frozen=True)
class Variant:
    name: str             # a short key: "max-pool"
    config: LeNetConfig
    why: str              # the question it asks


REFERENCE_VARIANTS: tuple[Variant, ...] = (
    Variant("reference", LeNetConfig(), "the course's LeNet-5: avg pooling, ReLU after it, no activation between Linears"),
    Variant("relu-between-linear", LeNetConfig(fc_activation="relu"),
            "does a non-linearity between the Linear layers help? Without one they are a single linear map"),
    Variant("max-pool", LeNetConfig(pool="max"), "keep the strongest response in each 2x2 window instead of the mean"),
    Variant("tanh-1998", LeNetConfig(activation="tanh", fc_activation="tanh"),
            "squashing tanh everywhere, as LeCun et al. used in 1998"),
    Variant("sigmoid", LeNetConfig(activation="sigmoid"), "the older squashing function; its gradient is at most 0.25"),
    Variant("no-activation", LeNetConfig(activation="none"),
            "no non-linearity at all: the whole network is one linear map of the pixels"),
    Variant("twice-the-channels", LeNetConfig(conv1_channels=12, conv2_channels=32),
            "more feature maps: more parameters and about 3x the multiply-accumulates"),
    Variant("half-the-channels", LeNetConfig(conv1_channels=3, conv2_channels=8), "fewer feature maps: how small can it get?"),
    Variant("3x3-kernels", LeNetConfig(conv1_kernel=3, conv2_kernel=3),
            "smaller receptive fields; the maps stay larger, so fc1 grows"),
)


def reference_variant(name: str) -> Variant:
    """One of :data:`REFERENCE_VARIANTS` by name."""
    for v in REFERENCE_VARIANTS:
        if v.name == name:
            return v
    raise KeyError(f"no reference variant {name!r}; known: {', '.join(v.name for v in REFERENCE_VARIANTS)}")


@dataclass
class VariantResult:
    """One row of the variants table: a variant trained once per seed, same budget for all."""

    name: str
    why: str
    config: LeNetConfig
    params: int
    macs: int
    accs: list[float]            # test accuracy per seed, in the table's seed order
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
    def from_dict(cls, values: dict[str, Any]) -> "VariantResult":
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
        return self.run.test_acc - self.reference.mean_acc if self.same_budget else None

    @property
    def beyond_noise(self) -> bool:
        """Whether the difference from the reference exceeds what changing the seed alone did."""
        return self.delta is not None and abs(self.delta) > self.reference.spread

    def __str__(self) -> str:
        run, ref = self.run, self.reference
        lines = [f"your run ({run.changes}): {run.test_acc:.2%} after {run.steps} batches, seed {run.seed}"]
        if not self.same_budget:
            lines.append(f"the table trained every variant for {self.table_steps} batches of {self.table_batch} "
                         f"on {self.table_train_size:,} images; this run had {run.steps} batches of {run.batch_size} "
                         f"on {run.train_size:,}, so its accuracy is not comparable. "
                         "Train it on the table's budget to compare.")
            return "\n".join(lines)
        lines.append(f"table reference: {ref.mean_acc:.2%} (seeds ranged over {_pts(ref.spread)} points)")
        if self.same_variant is not None and self.same_variant.name != "reference":
            v = self.same_variant
            lines.append(f"table '{v.name}' (the same config): {v.mean_acc:.2%} "
                         f"(seeds ranged over {_pts(v.spread)} points)")
        verdict = ("more than the seed-to-seed spread: likely a real effect" if self.beyond_noise
                   else "within the seed-to-seed spread: could be luck")
        lines.append(f"difference from the reference: {_points(self.delta)} points, {verdict}")
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

    def __post_init__(self) -> None:
        if not any(r.name == "reference" for r in self.results):
            raise ValueError("a variants table needs a 'reference' row to compare against")

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self):
        return iter(self.results)

    def __getitem__(self, name: str) -> VariantResult:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(f"no variant {name!r} in the table; it has {', '.join(r.name for r in self.results)}")

    @property
    def reference(self) -> VariantResult:
        return self["reference"]

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
                       and run.train_size == self.meta.get("train_size", TRAIN_SIZE))
        return Comparison(run, self.reference, self.find(run.config), same_budget, self.steps, self.batch_size,
                          self.meta.get("train_size", TRAIN_SIZE))

    def delta_to_reference(self, run: RunRecord) -> float | None:
        return self.compare(run).delta

    # rendering
    columns = ("variant", "changes from reference", "params", "MACs", "test acc (mean)", "seed range",
               "vs reference", "seconds")

    def _cells(self) -> list[tuple[str, ...]]:
        ref = self.reference.mean_acc
        return [(r.name, r.changes, f"{r.params:,}", f"{r.macs:,}", f"{r.mean_acc:.2%}",
                 f"{min(r.accs):.2%} - {max(r.accs):.2%}", _points(r.mean_acc - ref) if r.name != "reference" else "",
                 f"{r.mean_seconds:.1f}")
                for r in self.ranked()]

    def caption(self) -> str:
        m = self.meta
        return (f"Each variant trained for {self.steps} batches of {self.batch_size} "
                f"({self.steps * self.batch_size / m.get('train_size', TRAIN_SIZE):.2f} epoch) from seeds "
                f"{', '.join(map(str, self.seeds))}; test accuracy on {m.get('test_size', 10_000):,} MNIST test digits. "
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
        return _text_table(self.columns, self._cells(), right={2, 3, 4, 5, 6, 7}) + "\n" + self.caption()

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return (_html_table(self.columns, self._cells(), right={2, 3, 4, 5, 6, 7}, css="lenet-variants")
                + f"<p style='font-size:90%'>{html.escape(self.caption())}</p>")

    def to_markdown(self) -> str:
        head = "| " + " | ".join(self.columns) + " |"
        align = "| " + " | ".join("---:" if i in {2, 3, 4, 5, 6, 7} else "---" for i in range(len(self.columns))) + " |"
        body = ["| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |" for cells in self._cells()]
        m = self.meta
        prov = (f"Produced by `{m.get('command', 'scripts/train_variants.py')}` on {m.get('date', '?')} "
                f"(torch {m.get('torch', '?')}, {m.get('threads', '?')} CPU threads, {m.get('total_seconds', 0):.0f} s in all).")
        return "\n".join(["# LeNet-5 variants on one budget", "", self.caption(), "", head, align, *body, "", prov, ""])

    # files
    def to_dict(self) -> dict[str, Any]:
        return {"format": TABLE_FORMAT, "version": FORMAT_VERSION, "steps": self.steps,
                "batch_size": self.batch_size, "seeds": list(self.seeds), "meta": self.meta,
                "results": [r.to_dict() for r in self.results]}

    def save(self, folder: str | Path) -> tuple[Path, Path]:
        """Write ``results.json`` (everything) and ``results.md`` (the table) into ``folder``."""
        folder = Path(folder)
        return (_write_json(folder / "results.json", self.to_dict()),
                _write_text(folder / "results.md", self.to_markdown()))

    @classmethod
    def load(cls, path: str | Path | None = None) -> "VariantTable":
        """Read ``results.json`` (default: the course's committed table, ``data/variants/results.json``)."""
        path = Path(path) if path is not None else default_table_path()
        payload = _read_json(path, TABLE_FORMAT, "the results of scripts/train_variants.py")
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


def run_variants(variants: Sequence[Variant], steps: int, seeds: Sequence[int], *, train=None, test=None,
                 batch_size: int = BATCH_SIZE, device: str = "cpu",
                 on_run: Callable[[Variant, RunRecord], None] | None = None) -> VariantTable:
    """Train every variant from every seed on the same budget; the table ``train_variants.py`` writes."""
    import torch

    from .data import load_mnist

    if not variants or not any(v.name == "reference" for v in variants):
        raise ValueError("run_variants needs the 'reference' variant among the variants, to compare against")
    if not seeds:
        raise ValueError("run_variants needs at least one seed")
    train = load_mnist("train") if train is None else train
    test = load_mnist("test") if test is None else test
    # A few untimed batches first: one-time start-up costs (normalising the split, oneDNN setting
    # up its kernels) would otherwise land in the first variant's seconds.
    train_variant(None, min(steps, 10), seeds[0], train=train, test=test, batch_size=batch_size, device=device)
    start, peak_load = time.perf_counter(), _load_average()
    results = []
    for v in variants:
        runs = []
        for seed in seeds:
            run = train_variant(v.config, steps, seed, train=train, test=test, batch_size=batch_size,
                                device=device, name=v.name)
            runs.append(run)
            peak_load = max(peak_load, _load_average())
            if on_run is not None:
                on_run(v, run)
        curve = [sum(vals) / len(vals) for vals in zip(*(r.losses for r in runs))]
        results.append(VariantResult(v.name, v.why, v.config, runs[0].params, runs[0].macs,
                                     [r.test_acc for r in runs], [r.seconds for r in runs], curve))
    meta = {"torch": torch.__version__, "threads": torch.get_num_threads(), "device": runs[0].device,
            "date": _dt.date.today().isoformat(), "total_seconds": round(time.perf_counter() - start, 1),
            "train_size": len(train), "test_size": len(test), "cpus": os.cpu_count(),
            "load_average": peak_load}  # the highest seen; above cpus, the seconds were inflated
    return VariantTable(results, steps, batch_size, list(seeds), meta)


# --- figures --------------------------------------------------------------------------------
def plot_runs(runs: Iterable[Any], ax=None, smooth: int = 20, highlight: str | None = None):
    """Training loss per batch of each run (anything with ``.losses`` and ``.label``), overlaid.

    Curves are smoothed with a moving mean over ``smooth`` batches; the y axis is logarithmic,
    since the loss falls by orders of magnitude. Returns the axes.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 3.5))
    drawn = 0
    for run in runs:
        losses = list(run.losses)
        if not losses:
            continue
        ys = _moving_mean(losses, smooth)
        bold = highlight is not None and run.label == highlight
        ax.plot(range(1, len(ys) + 1), ys, label=run.label, lw=2.2 if bold else 1.2, zorder=3 if bold else 2)
        drawn += 1
    ax.set_xlabel("batch")
    ax.set_ylabel("training loss (smoothed)")
    ax.set_yscale("log")
    ax.grid(alpha=0.3, which="both")
    if drawn:
        ax.legend(fontsize=8, loc="upper right")
    return ax


def _moving_mean(values: Sequence[float], window: int) -> list[float]:
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


# --- helpers --------------------------------------------------------------------------------
def _load_average() -> float:
    """The 1-minute load average (runnable processes), or 0 where the OS does not say."""
    try:
        return round(os.getloadavg()[0], 1)
    except (AttributeError, OSError):
        return 0.0


def _now() -> str:
    return _dt.datetime.now().isoformat(timespec="seconds")


def _pts(x: float) -> str:
    return f"{100 * x:.2f}"


def _points(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:+.2f}"


def _text_table(columns: Sequence[str], cells: list[tuple[str, ...]], right: set[int]) -> str:
    widths = [max(len(str(c[i])) for c in [columns, *cells]) for i in range(len(columns))]

    def line(c):
        return "  ".join(c[i].rjust(widths[i]) if i in right else c[i].ljust(widths[i]) for i in range(len(c))).rstrip()

    return "\n".join([line(columns), "-" * len(line(columns)), *map(line, cells)])


def _html_table(columns: Sequence[str], cells: list[tuple[str, ...]], right: set[int], css: str) -> str:
    def style(i: int) -> str:  # one line per cell: a wrapped "changes" column is unreadable
        return f' style="padding:2px 8px;white-space:nowrap;text-align:{"right" if i in right else "left"}"'

    head = "".join(f"<th{style(i)}>{html.escape(c)}</th>" for i, c in enumerate(columns))
    body = "".join("<tr>" + "".join(f"<td{style(i)}>{html.escape(v)}</td>" for i, v in enumerate(c)) + "</tr>"
                   for c in cells)
    return f"<table class='{css}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _write_text(path: Path, text: str) -> Path:
    if path.is_dir():
        raise RunFileError(f"{path} is a folder; give a file path such as {path / 'layer_lab.json'}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")  # "x" mode: the umask decides permissions
    try:
        with open(tmp, "x", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)  # atomic: a crash never leaves a half-written file under the real name
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _write_json(path: Path, payload: dict[str, Any]) -> Path:
    return _write_text(path, _dumps(payload) + "\n")


def _dumps(value: Any, depth: int = 0) -> str:
    """JSON, indented, but a list of numbers stays on one line (a loss curve is one line, not 235)."""
    pad, inner = " " * depth, " " * (depth + 1)
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(str(k))}: {_dumps(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, (list, tuple)) and value and not all(
            isinstance(v, (int, float, str, bool)) or v is None for v in value):
        return "[\n" + ",\n".join(inner + _dumps(v, depth + 1) for v in value) + "\n" + pad + "]"
    return json.dumps(value)


def _read_json(path: Path, fmt: str, what: str) -> dict[str, Any]:
    if path.is_dir():
        raise RunFileError(f"{path} is a folder, not a file; give the path of {what}.")
    if not path.is_file():
        raise RunFileError(f"{path} does not exist; give the path of {what}.")
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise RunFileError(f"{path} is not a text file; give the path of {what}.") from None
    except json.JSONDecodeError as err:
        raise RunFileError(f"{path} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}); "
                           f"it may be truncated. Give the path of {what}.") from None
    if not isinstance(payload, dict) or payload.get("format") != fmt:
        found = payload.get("format") if isinstance(payload, dict) else None
        raise RunFileError(f"{path} is not {what}" + (f" (its format is {found!r})" if found else "") + ".")
    version = payload.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise RunFileError(f"{path} has format version {version!r}; this lenet_utils reads version "
                           f"{FORMAT_VERSION}. Update lenet_utils (pip install -U -e .).")
    return payload
