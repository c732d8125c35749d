"""The reference variants (notebook 06): the questions the variants table answers, and the
experiment that trains every one of them from every seed on the same budget."""

from __future__ import annotations

import datetime as _dt
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ...config import LeNetConfig
from ...data import MNISTSplit, load_mnist
from ...fast.threads import load_average
from .runs import BATCH_SIZE, RunRecord, train_variant
from .variant_table import VariantResult, VariantTable


@dataclass(frozen=True)
class Variant:
    name: str             # a short key: "max-pool"
    config: LeNetConfig
    why: str              # the question it asks


REFERENCE_VARIANTS: tuple[Variant, ...] = (
    Variant("reference", LeNetConfig(),
            "the course's LeNet-5: avg pooling, ReLU after it, no activation between Linears"),
    Variant("relu-between-linear", LeNetConfig(fc_activation="relu"),
            "does a non-linearity between the Linear layers help? Without one they are a single linear map"),
    Variant("max-pool", LeNetConfig(pool="max"), "keep the strongest response in each 2x2 window instead of the mean"),
    Variant("batchnorm", LeNetConfig(batchnorm=True),
            "BatchNorm after each convolution (2015), the modern contrast: every map rescaled per batch"),
    Variant("tanh-1998", LeNetConfig(activation="tanh", fc_activation="tanh"),
            "squashing tanh everywhere, as LeCun et al. used in 1998"),
    Variant("sigmoid", LeNetConfig(activation="sigmoid"), "the older squashing function; its gradient is at most 0.25"),
    Variant("no-activation", LeNetConfig(activation="none"),
            "no non-linearity at all: the whole network is one linear map of the pixels"),
    Variant("twice-the-channels", LeNetConfig(conv1_channels=12, conv2_channels=32),
            "more feature maps: more parameters and about 3x the multiply-accumulates"),
    Variant("half-the-channels", LeNetConfig(conv1_channels=3, conv2_channels=8),
            "fewer feature maps: how small can it get?"),
    Variant("3x3-kernels", LeNetConfig(conv1_kernel=3, conv2_kernel=3),
            "smaller receptive fields; the maps stay larger, so fc1 grows"),
)


def run_variants(variants: Sequence[Variant], steps: int, seeds: Sequence[int], *, train: MNISTSplit | None = None,
                 val: MNISTSplit | None = None, batch_size: int = BATCH_SIZE, device: str = "cpu",
                 on_run: Callable[[Variant, RunRecord], None] | None = None) -> VariantTable:
    """Train every variant from every seed on the same budget; the table ``train_variants.py`` writes."""
    import torch

    if not variants or not any(v.name == "reference" for v in variants):
        raise ValueError("run_variants needs the 'reference' variant among the variants, to compare against")
    if not seeds:
        raise ValueError("run_variants needs at least one seed")
    train = load_mnist("train") if train is None else train
    val = load_mnist("val") if val is None else val
    # A few untimed batches first: one-time start-up costs (normalising the split, oneDNN setting
    # up its kernels) would otherwise land in the first variant's seconds.
    train_variant(None, min(steps, 10), seeds[0], train=train, val=val, batch_size=batch_size, device=device)
    start, peak_load = time.perf_counter(), _load_average()
    results = []
    for v in variants:
        runs = []
        for seed in seeds:
            run = train_variant(v.config, steps, seed, train=train, val=val, batch_size=batch_size,
                                device=device, name=v.name)
            runs.append(run)
            peak_load = max(peak_load, _load_average())
            if on_run is not None:
                on_run(v, run)
        curve = [sum(vals) / len(vals) for vals in zip(*(r.losses for r in runs))]
        results.append(VariantResult(v.name, v.why, v.config, runs[0].params, runs[0].macs,
                                     [r.val_acc for r in runs], [r.seconds for r in runs], curve))
    meta = {"torch": torch.__version__, "threads": torch.get_num_threads(), "device": runs[0].device,
            "date": _dt.date.today().isoformat(), "total_seconds": round(time.perf_counter() - start, 1),
            "train_size": len(train), "val_size": len(val), "cpus": os.cpu_count(),
            "load_average": peak_load}  # the highest seen; above cpus, the seconds were inflated
    return VariantTable(results, steps, batch_size, list(seeds), meta)


def _load_average() -> float:
    """The 1-minute load average (runnable processes), or 0 where the OS does not say."""
    return round(load_average(), 1)
