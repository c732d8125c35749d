"""Training LeNet5Paper: the paper's recipe (SDLM, 20 passes) or a modern optimizer, for contrast.

``train_paper(PaperTrainConfig(...))`` returns the trained network and its history: one row per pass
with the test error and the error on a fixed 10,000-image slice of the training set (the two curves
of the paper's Fig. 5), the global rate eta, the range of SDLM's per-parameter rates and the pass's time.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

from ..data import load_mnist
from .data import Distortion, to_paper_pixels
from .model import INIT_DEFAULT, J_DEFAULT, LeNet5Paper, map_loss
from .sdlm import MU, SDLM, diagonal_hessian, eta_for_pass, preconditioned_sharpness

__all__ = ["PaperTrainConfig", "error_rate", "paper_split", "plain_convolutions", "recipe_of", "train_paper"]

CURVATURE_POLICIES = ("each_pass", "once")
SMALL_BATCH = 4        # up to this many images a step, train without oneDNN (plain_convolutions)


@contextmanager
def plain_convolutions(active: bool) -> Iterator[None]:
    """Inside, PyTorch's plain convolutions instead of oneDNN's, whose set-up cost per call dominates
    one 32x32 image (``python benchmarks/paper1998.py --step-speed`` measures both); restored after."""
    before = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = before and not active
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = before


@dataclass
class PaperTrainConfig:
    """One training run of the 1998 network. The defaults are the paper's recipe (section III-C)."""

    passes: int = 20
    optimizer: str = "sdlm"            # "sdlm" (the paper's) or "adam" (modern, for contrast)
    batch_size: int = 1                # one image at a time, as the paper (sdlm.py: why not more)
    mu: float = MU
    eta_scale: float = 1.0             # multiplies the paper's schedule of eta (1: as printed)
    hessian_samples: int = 500         # the curvature is estimated on this many training images
    curvature: str = "once"            # "once": estimated before the first pass only; "each_pass":
                                       # re-estimated before every pass, as the paper's text (sdlm.py: why)
    j: float = J_DEFAULT
    init: str = INIT_DEFAULT           # "sqrt": +-2.4/sqrt(Fi); "printed": +-2.4/Fi (model.py)
    distort: bool = False              # random planar affine distortions (Distortion())
    adam_lr: float = 1e-3              # peak rate of Adam's one-cycle schedule
    seed: int = 0
    train_limit: int | None = None     # the first n training images only (a short demonstration)
    test_limit: int | None = None
    train_eval_size: int = 10_000      # the training-error curve of Fig. 5 is measured on this many
    sharpness_samples: int = 0         # > 0: each pass records SDLM's preconditioned_sharpness on this many

    def __post_init__(self) -> None:
        if self.optimizer not in ("sdlm", "adam"):
            raise ValueError(f"optimizer must be 'sdlm' or 'adam', got {self.optimizer!r}")
        if not (isinstance(self.passes, int) and self.passes >= 1):
            raise ValueError(f"passes must be a positive integer, got {self.passes!r}")
        if not (isinstance(self.batch_size, int) and self.batch_size >= 1):
            raise ValueError(f"batch_size must be a positive integer, got {self.batch_size!r}")
        if self.curvature not in CURVATURE_POLICIES:
            raise ValueError(f"curvature must be one of {', '.join(map(repr, CURVATURE_POLICIES))}, "
                             f"got {self.curvature!r}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def recipe_of(row: dict) -> dict:
    """A result row's recipe with every option filled in: a row written before an option existed ran
    as the code then did (before ``curvature``: re-estimated before every pass; before ``eta_scale``: 1)."""
    return {"curvature": "each_pass", "eta_scale": 1.0, **row["recipe"]}


def paper_split(split: str, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST's ``split`` as paper pixels ``(N, 1, 32, 32)`` and labels ``(N,)``. ``"train"`` is all
    60,000 training digits, as the paper used (``"train_full"`` where the course holds 5,000 out)."""
    if split == "train":
        split = "train_full"
    data = load_mnist(split)
    n = len(data) if limit is None else min(limit, len(data))
    return to_paper_pixels(data.pixels[:n].clone()), data.labels[:n].clone()


@torch.no_grad()
def error_rate(model: LeNet5Paper, images: torch.Tensor, labels: torch.Tensor, batch: int = 1000) -> float:
    """The fraction of ``images`` whose smallest RBF penalty is not at their label."""
    model.eval()
    wrong = 0
    for i in range(0, len(labels), batch):
        wrong += int((model(images[i:i + batch]).argmin(1) != labels[i:i + batch]).sum())
    return wrong / max(1, len(labels))


@dataclass
class PaperRun:
    model: LeNet5Paper
    config: PaperTrainConfig
    history: list[dict[str, float]] = field(default_factory=list)

    @property
    def test_error(self) -> float:
        return self.history[-1]["test_error"]


def train_paper(config: PaperTrainConfig, *,
                on_pass: Callable[[dict[str, float], LeNet5Paper], bool | None] | None = None,
                data: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor] | None = None) -> PaperRun:
    """Train a fresh :class:`LeNet5Paper` with ``config``; ``on_pass(row, model)`` after every pass
    (if it returns True, training stops there: ``run.history`` then has fewer rows than ``passes``).
    ``data``: ``(train_x, train_y, test_x, test_y)`` in paper pixels, to skip loading MNIST again."""
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    if data is None:
        train_x, train_y = paper_split("train", config.train_limit)
        test_x, test_y = paper_split("test", config.test_limit)
    else:
        train_x, train_y, test_x, test_y = data
    model = LeNet5Paper()
    model.reset_parameters(generator, config.init)
    distort = Distortion() if config.distort else None
    n, bs = len(train_y), config.batch_size
    steps_per_pass = math.ceil(n / bs)
    eval_idx = torch.arange(min(config.train_eval_size, n))
    if config.optimizer == "sdlm":
        optimizer: torch.optim.Optimizer = SDLM(model.parameters(), eta=eta_for_pass(0) * config.eta_scale,
                                                mu=config.mu)
        reduction = "sum"              # per-image rates, summed over the batch (sdlm.py)
        scheduler = None
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=config.adam_lr)
        reduction = "mean"
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.adam_lr,
                                                        total_steps=config.passes * steps_per_pass)
    run = PaperRun(model, config)
    for p in range(config.passes):
        start = time.perf_counter()
        row: dict[str, float] = {"pass": p + 1}
        if isinstance(optimizer, SDLM):
            sample = torch.randperm(n, generator=generator)[:config.hessian_samples]
            model.train()
            if p == 0 or config.curvature == "each_pass":
                optimizer.set_curvature(diagonal_hessian(model, train_x[sample]))
            optimizer.set_eta(eta_for_pass(p) * config.eta_scale)
            rates = torch.cat([r.flatten() for r in optimizer.learning_rates().values()])
            row.update(eta=eta_for_pass(p) * config.eta_scale, rate_min=float(rates.min()), rate_max=float(rates.max()))
            if config.sharpness_samples > 0:     # B x this > 2: summed batches of B overshoot (sdlm.py)
                measuring = time.perf_counter()
                probe = train_x[sample[:config.sharpness_samples]]
                row["sharpness"] = preconditioned_sharpness(model, optimizer, probe)
                start += time.perf_counter() - measuring        # a measurement, not part of the pass's time
        model.train()
        order = torch.randperm(n, generator=generator)
        total = torch.zeros(())
        with plain_convolutions(bs <= SMALL_BATCH):
            for i in range(steps_per_pass):
                idx = order[i * bs:(i + 1) * bs]
                x, y = train_x[idx], train_y[idx]
                if distort is not None:
                    x = distort(x, generator)
                optimizer.zero_grad(set_to_none=True)
                loss = map_loss(model(x), y, config.j, reduction=reduction)
                loss.backward()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                total += loss.detach() * (1 if reduction == "mean" else 1 / len(y))
        row["seconds"] = time.perf_counter() - start
        row["train_loss"] = float(total) / steps_per_pass
        row["train_error"] = error_rate(model, train_x[eval_idx], train_y[eval_idx])
        row["test_error"] = error_rate(model, test_x, test_y)
        run.history.append(row)
        if on_pass is not None and on_pass(row, model):
            break
    return run
