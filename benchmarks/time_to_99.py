"""Time to 99% test accuracy: the default recipe against the fast one, over the same seeds, taking turns.

For each seed, ``fit(LeNet5(), train, test, config, fast=True)`` after ``set_seed(seed)`` with the
default recipe (``TrainConfig()``), then with the fast one (``TrainConfig.fast()``), then the
machine's matmul peak: the two recipes of one seed run minutes apart at most, so the per-seed
ratios cancel most of a shared machine's drift. Seconds to 99% are the wall seconds until the
test accuracy, measured after every epoch, first reaches the target; the per-epoch test pass is
part of that cost (it is how anyone would know 99% was reached). A seed that never gets there
counts as infinitely slow in the median.

The step's speed is measured inside the same runs: a step callback notes the time of every
batch, so ``train_images_per_s`` is the training loop's own rate (the test passes excluded),
``epoch_s`` the seconds a whole training epoch takes at that rate, and
``train_fraction_of_peak`` that rate in LeNet-5's FLOPs (epoch.TRAIN_FLOP_PER_IMAGE) over the
peak measured in the same round.
"""

from __future__ import annotations

import math
import time

from epoch import TRAIN_FLOP_PER_IMAGE
from peak import matmul_gflops
from timing import median, ratios

from lenet_utils import LeNet5, MNISTSplit, TrainConfig, fit, set_seed

TARGET = 0.99
RECIPES = ("default", "fast")


def recipe(name: str, seed: int, epochs: int | None, fast: dict | None = None) -> TrainConfig:
    """The named recipe for one seed; ``epochs`` caps its length (the smoke run uses 1); ``fast``: the changes
    to TrainConfig() that stand for "fast" (a candidate, e.g. one of recipe_search.py's), TrainConfig.fast()'s
    own when None."""
    config = TrainConfig(seed=seed) if name == "default" else \
        TrainConfig.fast(seed=seed) if fast is None else TrainConfig(**fast, seed=seed)
    if epochs is not None:
        config = TrainConfig(**{**config.to_dict(), "epochs": epochs, "max_steps": None})
    return config


def one_run(config: TrainConfig, train: MNISTSplit, test: MNISTSplit, device, target: float) -> dict:
    """One training run: accuracy per epoch, seconds to ``target`` and the training loop's own rate."""
    stamps: list[float] = []                               # time after every batch
    epoch_ends: list[int] = []                             # len(stamps) at each epoch's end

    def on_step(history) -> None:
        stamps.append(time.perf_counter())

    def on_epoch(history) -> None:
        epoch_ends.append(len(stamps))

    set_seed(config.seed)
    history = fit(LeNet5(), train, test, config, progress=False, device=device, fast=True,
                  step_callback=on_step, callback=on_epoch)
    # Within each epoch, the batches between the first and the last one timed: no test pass among them.
    steps, seconds, begin = 0, 0.0, 0
    for end in epoch_ends:
        if end - begin >= 2:
            steps += end - begin - 1
            seconds += stamps[end - 1] - stamps[begin]
        begin = end
    images_per_s = steps * config.batch_size / seconds if seconds > 0 else None
    hit = history.first_reaching(target)
    return {
        "seed": config.seed,
        "seconds_to_target": history.seconds_to(target),
        "epoch_reaching_target": None if hit is None else hit.epoch,
        "steps": history.steps_done,
        "final_test_acc": history.final.test_acc,
        "test_acc_per_epoch": history.column("test_acc"),
        "seconds_per_epoch": history.column("seconds"),
        "total_seconds": history.seconds,
        "train_images_per_s": images_per_s,
        "threads": history.threads,
    }


def summary(runs: list[dict], config: TrainConfig, peaks: list[float], train_images: int, target: float) -> dict:
    times = [r["seconds_to_target"] for r in runs]
    reached = [t for t in times if t is not None]
    finals = [r["final_test_acc"] for r in runs]
    middle = median([math.inf if t is None else t for t in times])   # a seed that never got there: infinitely slow
    rates = [r["train_images_per_s"] or math.nan for r in runs]
    fractions = [TRAIN_FLOP_PER_IMAGE * r / 1e9 / p for r, p in zip(rates, peaks)]
    return {
        "recipe": {k: v for k, v in config.to_dict().items() if k != "seed"},
        "seeds_reaching_target": len(reached),
        "seconds_to_target": {"min": min(reached) if reached else None,
                              "median": middle if math.isfinite(middle) else None,
                              "max": max(times) if len(reached) == len(times) else None},
        "final_test_acc": {"min": min(finals), "median": median(finals), "max": max(finals)},
        "train_images_per_s": median(rates),
        "epoch_s": train_images / median(rates),
        "train_fraction_of_peak": median(fractions),
        "fraction_of_peak_per_seed": fractions,
        "runs": runs,
    }


def measure(train: MNISTSplit, test: MNISTSplit, device, *, seeds: list[int], epochs: int | None = None,
            target: float = TARGET, peak_side: int = 2048, fast: dict | None = None) -> dict:
    """Both recipes on every seed, taking turns (default, fast, peak); ``epochs`` caps both (smoke); ``fast``:
    a candidate's changes to TrainConfig() in the place of TrainConfig.fast() (see :func:`recipe`)."""
    runs: dict[str, list[dict]] = {name: [] for name in RECIPES}
    peaks: list[float] = []
    for seed in seeds:
        for name in RECIPES:
            runs[name].append(one_run(recipe(name, seed, epochs, fast), train, test, device, target))
        peaks.append(matmul_gflops(peak_side, device=device))
    found = {name: summary(runs[name], recipe(name, 0, epochs, fast), peaks, len(train), target) for name in RECIPES}
    default, fast = found["default"], found["fast"]

    def per_seed_ratio(key: str, numerator: dict, denominator: dict) -> float | None:
        pairs = [(a[key], b[key]) for a, b in zip(numerator["runs"], denominator["runs"]) if a[key] and b[key]]
        return median(ratios([a for a, _ in pairs], [b for _, b in pairs])) if pairs else None

    return {
        "time_to_99_s_median": default["seconds_to_target"]["median"],
        "time_to_99_fast_s_median": fast["seconds_to_target"]["median"],
        "train_fraction_of_peak_fast": fast["train_fraction_of_peak"],
        "details": {
            "target": target,
            "seeds": seeds,
            "epochs": epochs or TrainConfig().epochs,
            "train_images": len(train),
            "test_images": len(test),
            "peak_gflops_per_seed": peaks,
            # The default recipe's figures at the top level, as before this benchmark compared recipes.
            **{k: default[k] for k in ("seeds_reaching_target", "seconds_to_target", "final_test_acc", "runs")},
            "recipes": found,
            "fast_over_default": {
                # per seed: default's seconds / fast's (seeds where both reached the target), fast's rate / default's
                "seconds_to_target_speedup": per_seed_ratio("seconds_to_target", default, fast),
                "train_images_per_s_ratio": per_seed_ratio("train_images_per_s", fast, default),
            },
        },
    }
