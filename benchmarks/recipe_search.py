"""The recipe search of issue 28: test accuracy at the end of each recipe, per seed (epochs, not seconds).

    python benchmarks/recipe_search.py --list                          # the recipes, with what each changes
    python benchmarks/recipe_search.py fast fast_ls --seeds 0-2        # screen: 3 seeds each
    python benchmarks/recipe_search.py fast_ls --seeds 0-9             # confirm: 10 seeds

Each run is ``fit(LeNet5(), train, None, TrainConfig(**changes, seed=s))`` after ``set_seed(s)``, on
the 55,000-digit training split, then one ``evaluate`` on the test split (10,000) and one on the
validation split (5,000), with the averaged weights where the recipe averages them (``ema``). The
figures are accuracies, which do not depend on the machine's load, and the epochs and images the
recipe saw; seconds on a shared machine are not comparable, so none are stored (``time_to_99.py``
times the chosen recipe against the default in one process).

Runs go one at a time on ``--threads`` (default 1) threads. Every run is added to ``--out``
(``results/recipe_search.json``) as soon as it ends, with its date, commit and load averages;
a recipe whose definition changed since its stored runs starts afresh. A recipe reaches the
target on a seed when its final test accuracy is >= 99.0%.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import time
from pathlib import Path

from provenance import git_commit

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "benchmarks" / "results" / "recipe_search.json"
TARGET = 0.99

# name -> (changes to TrainConfig(), why it was tried). Every recipe keeps the reference LeNet5 and the
# 55,000/5,000 split; "epochs" below are passes over the 55,000 training digits.
RECIPES: dict[str, tuple[dict, str]] = {
    "default": ({}, "the course's recipe: 5 epochs, batch 128, peak rate 0.1, one-cycle, Nesterov"),
    "fast": (dict(epochs=4, batch_size=256, lr=0.2), "TrainConfig.fast() before this search (issue 28)"),
    "fast_ls": (dict(epochs=4, batch_size=256, lr=0.2, label_smoothing=0.1), "fast + label smoothing 0.1"),
    "fast_ema": (dict(epochs=4, batch_size=256, lr=0.2, ema=0.99),
                 "fast + a moving average of the weights (~the last 100 steps, half an epoch)"),
    "fast_ema_hot": (dict(epochs=4, batch_size=256, lr=0.2, anneal_to=0.05, ema=0.995),
                     "fast ending at 5% of the peak rate, averaged over ~the last 200 steps (SWA-like)"),
    "fast_aug": (dict(epochs=4, batch_size=256, lr=0.2, augment=True), "fast + small random distortions"),
    "fast_warm01": (dict(epochs=4, batch_size=256, lr=0.2, warmup=0.1), "fast with a 10% warm-up"),
    "fast_warm03": (dict(epochs=4, batch_size=256, lr=0.2, warmup=0.3), "fast with a 30% warm-up"),
    "fast_lr03": (dict(epochs=4, batch_size=256, lr=0.3), "fast at a 1.5x higher peak rate"),
    "fast_momentum": (dict(epochs=4, batch_size=256, lr=0.2, nesterov=False), "fast with plain momentum"),
    "b512": (dict(epochs=4, batch_size=512, lr=0.4), "4 epochs of batch 512, the rate scaled with the batch"),
    "b128_e4": (dict(epochs=4), "the default recipe cut to 4 epochs (batch 128, peak rate 0.1)"),
    "b128_e4_ls": (dict(epochs=4, label_smoothing=0.1), "b128_e4 + label smoothing 0.1"),
    "fast_aug_ls": (dict(epochs=4, batch_size=256, lr=0.2, augment=True, label_smoothing=0.1),
                    "fast + distortions + label smoothing 0.1"),
    "fast_ls_ema_hot": (dict(epochs=4, batch_size=256, lr=0.2, label_smoothing=0.1, anneal_to=0.05, ema=0.995),
                        "fast_ema_hot + label smoothing 0.1"),
    # batch 512 runs about 1.3x more images a second than 256 on two cores (benchmarks/techniques.py), so an
    # extra epoch at 512 costs about what fast_aug's fourth costs at 256
    "aug_b512_e5": (dict(epochs=5, batch_size=512, lr=0.4, augment=True),
                    "5 epochs of batch 512 with distortions, the rate scaled with the batch"),
    "aug_b512_e5_lr03": (dict(epochs=5, batch_size=512, lr=0.3, augment=True), "aug_b512_e5 at a peak rate of 0.3"),
    "aug_b512_e4": (dict(epochs=4, batch_size=512, lr=0.4, augment=True), "aug_b512_e5 cut to 4 epochs"),
    "aug_b384_e4": (dict(epochs=4, batch_size=384, lr=0.3, augment=True), "fast_aug at batch 384, rate 0.3"),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipes", nargs="*", help="names from --list")
    parser.add_argument("--seeds", default="0-2", help="e.g. 0-2 or 0,3,5 (default 0-2)")
    parser.add_argument("--threads", type=int, default=1, help="PyTorch CPU threads (default 1)")
    parser.add_argument("--train", type=int, default=None, help="train on the first N digits of the split (smoke)")
    parser.add_argument("--test", type=int, default=None, help="score the first N test digits (smoke)")
    parser.add_argument("--epochs", type=int, default=None, help="override every recipe's epochs (smoke)")
    parser.add_argument("--out", default=str(OUT), help="the JSON file runs are added to ('' for nowhere)")
    parser.add_argument("--list", action="store_true", help="list the recipes and exit")
    args = parser.parse_args(argv)
    unknown = [name for name in args.recipes if name not in RECIPES]
    if unknown:
        parser.error(f"unknown recipe {', '.join(unknown)}: choose from {', '.join(RECIPES)}")
    if not args.list and not args.recipes:
        parser.error("name at least one recipe (see --list)")
    if (args.train or args.test or args.epochs) and Path(args.out or ".") == OUT:
        parser.error("a smoke run (--train, --test, --epochs) does not go into the result file: "
                     "pass --out PATH or --out ''")
    try:
        args.seeds = seed_list(args.seeds)
    except ValueError:
        parser.error(f"--seeds must look like 0-2 or 0,3,5, got {args.seeds!r}")
    return args


def seed_list(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        seeds += list(range(int(first), int(last or first) + 1))
    if not seeds or min(seeds) < 0:
        raise ValueError(text)
    return seeds


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def one_run(name: str, seed: int, train, test, val, threads: int, epochs: int | None) -> dict:
    """One recipe, one seed: the final accuracies and how much it trained."""
    from lenet_utils import LeNet5, TrainConfig, evaluate, fit, set_seed

    changes = {**RECIPES[name][0], **({"epochs": epochs} if epochs else {})}
    config = TrainConfig(**changes, seed=seed)
    load_start, started = load_average(), time.perf_counter()
    set_seed(seed)
    model = LeNet5()
    history = fit(model, train, None, config, progress=False, device="cpu", threads=threads)
    full, rest = divmod(history.steps_done, history.steps_per_epoch)
    return {
        "seed": seed,
        "test_acc": evaluate(model, test, threads=threads).accuracy,
        "val_acc": evaluate(model, val, threads=threads).accuracy,
        "steps": history.steps_done,
        "epochs": round(history.steps_done / history.steps_per_epoch, 4),
        "images_seen": full * len(train) + min(rest * config.batch_size, len(train)),
        "train_images": len(train),
        "test_images": len(test),
        "threads": history.threads,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "load_average_start": load_start,
        "load_average_end": load_average(),
        "_seconds": time.perf_counter() - started,      # printed, not stored: a shared machine's seconds
    }


def summary(runs: list[dict]) -> dict:
    accs = [r["test_acc"] for r in runs]
    return {"seeds": len(runs), "reaching_target": sum(a >= TARGET for a in accs),
            "test_acc": {"min": min(accs), "median": statistics.median(accs), "max": max(accs)}}


def record(path: Path, name: str, config: dict, run: dict) -> dict:
    """Add ``run`` to ``name``'s runs in ``path`` (replacing the same seed's), atomically; the file as written."""
    data = json.loads(path.read_text()) if path.exists() else {}
    data.update(about=__doc__.splitlines()[0], target=TARGET, script="benchmarks/recipe_search.py")
    recipes = data.setdefault("recipes", {})
    entry = recipes.get(name)
    sizes = {"train_images": run["train_images"], "test_images": run["test_images"]}
    if entry is None or entry.get("config") != config or {k: entry.get(k) for k in sizes} != sizes:
        entry = {"changes": RECIPES[name][0], "why": RECIPES[name][1], "config": config, **sizes,
                 "runs": []}                                    # new, or redefined: start afresh
    runs = [r for r in entry["runs"] if r["seed"] != run["seed"]] + [run]
    entry["runs"] = sorted(runs, key=lambda r: r["seed"])
    entry["summary"] = summary(entry["runs"])
    recipes[name] = entry
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)                                   # a crash mid-write leaves the old file whole
    return data


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for name, (changes, why) in RECIPES.items():
            print(f"{name:<14}{why}  {changes}")
        return 0
    import torch

    from lenet_utils import TrainConfig, load_mnist

    torch.set_num_threads(args.threads)
    train, val, test = load_mnist("train"), load_mnist("val"), load_mnist("test")
    if args.train:
        train = train.subset(args.train)
    if args.test:
        test = test.subset(args.test)
    out = Path(args.out) if args.out else None
    for name in args.recipes:
        changes = {**RECIPES[name][0], **({"epochs": args.epochs} if args.epochs else {})}
        config = json.loads(json.dumps({k: v for k, v in TrainConfig(**changes).to_dict().items() if k != "seed"}))
        runs = []
        for seed in args.seeds:
            run = one_run(name, seed, train, test, val, args.threads, args.epochs)
            seconds = run.pop("_seconds")
            runs.append(run)
            print(f"{name:<14} seed {seed}: test {run['test_acc']:.2%}  val {run['val_acc']:.2%}  "
                  f"{run['epochs']:g} epochs  ({seconds:.0f} s, load {run['load_average_end'][0]})", flush=True)
            if out is not None:
                record(out, name, config, run)
        s = summary(runs)
        print(f"{name:<14} {s['reaching_target']} of {s['seeds']} seeds >= {TARGET:.0%}; test accuracy "
              f"{s['test_acc']['min']:.2%} / {s['test_acc']['median']:.2%} / {s['test_acc']['max']:.2%} "
              "(min / median / max)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
