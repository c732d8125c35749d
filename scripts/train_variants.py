#!/usr/bin/env python
"""Train the reference LeNet-5 variants on one budget and the same seeds; write the results table.

    python scripts/train_variants.py            # the course's table: data/variants/results.{json,md}
    python scripts/train_variants.py --smoke --out /tmp/variants   # seconds: a check that it works

Every variant gets the same recipe (SGD + Nesterov, one-cycle over the budget), the same batches
(the seed fixes the order) and the same initial-weight seed, so the table isolates the layers.
Notebook 06 shows the table and the layer lab compares a student's run against it.
It trains on the CPU by default, so the numbers are what a laptop gets (up to floating-point details):
27 runs of 235 batches, minutes on 2 cores. The table records the load average too, since a busy
machine inflates its seconds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from lenet_utils.lessons.experiments import (
    DEFAULT_BUDGET,
    REFERENCE_VARIANTS,
    RunFileError,
    RunRecord,
    Variant,
    run_variants,
)
from lenet_utils.paths import repo_root

SMOKE = {"variants": ["reference", "max-pool"], "steps": 3, "seeds": [0], "train": 512, "val": 256}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    names = [v.name for v in REFERENCE_VARIANTS]
    default_out = (repo_root() or Path.cwd()) / "data" / "variants"
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=DEFAULT_BUDGET,
                   help=f"batches of 128 per run (default {DEFAULT_BUDGET}: half an epoch)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds, one run each (default 0 1 2)")
    p.add_argument("--variants", nargs="+", default=names, metavar="NAME",
                   help=f"which variants (default all): {', '.join(names)}")
    p.add_argument("--out", type=Path, default=default_out, help=f"folder for results.json and results.md "
                                                                 f"(default {default_out})")
    p.add_argument("--device", default="cpu", help="cpu (default: the numbers a laptop reproduces) | auto | cuda | mps")
    p.add_argument("--smoke", action="store_true",
                   help="a few seconds: 2 variants, 3 batches, 1 seed, a slice of MNIST (checks the script works)")
    args = p.parse_args(argv)
    unknown = [n for n in args.variants if n not in names]
    if unknown:
        p.error(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(names)}")
    if "reference" not in args.variants:
        p.error("--variants must include 'reference': every other row is compared with it")
    if args.steps < 1:
        p.error("--steps must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from lenet_utils.data import MNISTUnavailable, load_mnist

    try:
        train, val = load_mnist("train"), load_mnist("val")
    except MNISTUnavailable as err:
        print(f"train_variants: error: {err}", file=sys.stderr)
        return 1
    names, steps, seeds = args.variants, args.steps, args.seeds
    if args.smoke:
        names, steps, seeds = SMOKE["variants"], SMOKE["steps"], SMOKE["seeds"]
        train, val = train.subset(SMOKE["train"]), val.subset(SMOKE["val"])
    variants = [v for v in REFERENCE_VARIANTS if v.name in names]
    print(f"training {len(variants)} variants x {len(seeds)} seeds, {steps} batches each, on {args.device}",
          flush=True)

    def report(v: Variant, run: RunRecord) -> None:
        print(f"  {v.name:<20} seed {run.seed}  val acc {run.val_acc:.2%}  {run.seconds:5.1f} s", flush=True)

    start = time.perf_counter()
    table = run_variants(variants, steps, seeds, train=train, val=val, device=args.device, on_run=report)
    given = " ".join(argv if argv is not None else sys.argv[1:])
    table.meta["command"] = f"python scripts/train_variants.py {given}".rstrip()
    table.meta["smoke"] = args.smoke
    try:
        json_path, md_path = table.save(args.out)
    except (OSError, RunFileError) as err:
        print(f"train_variants: error: cannot write to {args.out}: {err}", file=sys.stderr)
        return 1
    print()
    print(table)
    print(f"\nwrote {json_path} and {md_path} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
