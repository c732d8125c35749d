"""One run of the layer lab (notebook 06): a config trained on a budget of batches, then scored.

The budget and batch size are the course's recipe (``TrainConfig``'s defaults) on MNIST's
training split, so a lab run and ``fit`` agree on what "an epoch" is.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...config import ConfigError, LeNetConfig
from ...data import SPLIT_SIZES, MNISTSplit, load_mnist
from ...lab_net import LabNet
from ...summary import layer_summary
from ...training import History, TrainConfig, evaluate, fit, set_seed

BATCH_SIZE = TrainConfig().batch_size                 # 128, the recipe's
TRAIN_SIZE = SPLIT_SIZES["train"]                     # 55,000: MNIST's training digits less validation
STEPS_PER_EPOCH = math.ceil(TRAIN_SIZE / BATCH_SIZE)  # 430 batches of 128 are one pass over the training split
DEFAULT_BUDGET = (STEPS_PER_EPOCH + 1) // 2  # 215: half an epoch, the table's budget and the lab's default


@dataclass
class RunRecord:
    """One trained variant: its config, the budget it got and what it scored on the 5,000 validation digits.

    The lab ranks and compares runs: a choice, so it scores the validation split (``load_mnist("val")``),
    never the test split."""

    config: LeNetConfig
    steps: int                     # batches actually trained (less than budget when stopped)
    budget: int                    # batches asked for
    seed: int                      # initial weights and batch order
    val_acc: float                 # on the whole validation split, after training
    val_loss: float
    seconds: float                 # training wall time (without the validation pass); machine-dependent
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
    def stopped(self) -> bool:
        return self.steps < self.budget

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["config"] = self.config.to_dict()
        out["losses"] = [round(v, 5) for v in self.losses]
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunRecord:
        """The inverse of :meth:`to_dict`; raises ``ValueError`` naming the first bad field."""
        if not isinstance(values, dict):
            raise ValueError(f"a run must be a JSON object, got {type(values).__name__}")
        if "test_acc" in values and "val_acc" not in values:
            raise ValueError("the run was saved before the validation split: it holds a test accuracy "
                             "('test_acc'), and the lab ranks validation accuracy only; train it again")
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
        for name in ("val_acc", "val_loss", "seconds"):
            if not isinstance(kwargs[name], (int, float)) or isinstance(kwargs[name], bool):
                raise ValueError(f"'{name}' must be a number, got {kwargs[name]!r}")
        if not isinstance(kwargs.get("losses", []), list) or not all(
                isinstance(v, (int, float)) for v in kwargs.get("losses", [])):
            raise ValueError("'losses' must be a list of numbers")
        return cls(**kwargs)


def budget_steps(epochs: float, train_size: int = TRAIN_SIZE, batch_size: int = BATCH_SIZE) -> int:
    """A budget in epochs -> batches, at least 1: ``budget_steps(0.5)`` is 215 on MNIST's training split."""
    if not isinstance(epochs, (int, float)) or isinstance(epochs, bool) or not epochs > 0:
        raise ValueError(f"a budget must be a positive number of epochs, got {epochs!r}")
    return max(1, math.floor(epochs * math.ceil(train_size / batch_size) + 0.5))  # halves round up, not to even


def train_variant(config: LeNetConfig | None = None, steps: int = DEFAULT_BUDGET, seed: int = 0, *,
                  train: MNISTSplit | None = None, val: MNISTSplit | None = None, batch_size: int = BATCH_SIZE,
                  step_callback: Callable[[History], bool | None] | None = None,
                  device: str = "auto", name: str = "") -> RunRecord:
    """Train ``config`` (the reference when ``None``) for ``steps`` batches from seed ``seed``, then
    score it on the whole validation split.

    The recipe is the course's (SGD with Nesterov momentum, one-cycle schedule over the budget),
    so variants differ only in their layers. ``step_callback(history)`` runs after every batch;
    returning ``False`` stops the run early (the record keeps the batches done). ``train`` and
    ``val`` default to MNIST's 55,000-digit training split and 5,000-digit validation split.
    """
    config = config or LeNetConfig()
    if not isinstance(config, LeNetConfig):
        raise TypeError(f"config must be a LeNetConfig, not {type(config).__name__}")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps must be a whole number of batches >= 1, got {steps!r}")
    train = load_mnist("train") if train is None else train
    val = load_mnist("val") if val is None else val
    per_epoch = math.ceil(len(train) / batch_size)
    recipe = TrainConfig(epochs=math.ceil(steps / per_epoch), batch_size=batch_size, max_steps=steps, seed=seed)

    set_seed(seed)                      # the initial weights
    model = LabNet(config)
    history = fit(model, train, None, recipe, step_callback=step_callback, progress=False, device=device)
    scored = evaluate(model, val)       # the 5,000 validation digits: about 0.1 s on a laptop CPU
    table = layer_summary(config)
    return RunRecord(config=config, steps=history.steps_done, budget=steps, seed=seed,
                     val_acc=scored.accuracy, val_loss=scored.loss, seconds=history.seconds,
                     params=table.total_params, macs=table.total_macs, losses=list(history.step_losses),
                     batch_size=batch_size, train_size=len(train), name=name, device=history.device,
                     created=now())


def now() -> str:
    """The local time to the second, ISO format: when a run was made or a file saved."""
    return _dt.datetime.now().isoformat(timespec="seconds")
