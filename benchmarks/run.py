"""The benchmark suite: ``make bench`` (or ``python benchmarks/run.py``).

Prints a table and writes ``benchmarks/results/latest.json``. ``--smoke`` runs every
measurement at tiny sizes in a few seconds (``make test`` does, so the suite never rots); its
figures mean nothing, its JSON goes to a temporary folder unless ``--out`` says otherwise, and
the targets are not checked. See benchmarks/README.md for the method and the results.

    python benchmarks/run.py                        # the full run, about 10 minutes on 2 quiet cores
    python benchmarks/run.py --only epoch,time_to_99 --out benchmarks/results/recipes.json
                                                    # the default recipe against TrainConfig.fast()
    python benchmarks/run.py --skip-notebooks       # without executing the notebooks
    python benchmarks/run.py --only latency,eval    # some sections
    python benchmarks/run.py --smoke --out /tmp/smoke.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

# The sibling modules below import as top-level modules: Python puts a script's own folder first
# on sys.path, and lenet_utils is installed (pip install -e .), so nothing edits sys.path.
import epoch
import eval_speed
import latency
import notebook_times
import techniques
import time_to_99
import timing
import torch

from lenet_utils import LeNet5, load_mnist, pick_device, set_seed

HERE = Path(__file__).resolve().parent

# Every investigation in this folder, by the question it answers. `make bench` runs the speed
# suite below (the sections) and then the class; each other script runs on its own
# (`python benchmarks/SCRIPT.py --help`). tests/test_benchmarks.py checks every script is listed.
GROUPS: dict[str, list[str]] = {
    "speed": ["epoch.py", "time_to_99.py", "eval_speed.py", "latency.py", "predict_latency.py", "techniques.py",
              "notebook_times.py", "cli_help.py", "live_plot.py", "by_hand.py"],
    "memory": ["app_memory.py", "decode_memory.py", "predict_many_memory.py"],
    "classroom": ["classroom.py", "hub_load.py", "hub_sandbox.py", "panel_layout.py", "term_e2e.py"],
    "quality": ["not_a_digit.py", "upload_accuracy.py", "fuzz.py", "paper1998.py", "recipe_search.py"],
}
HELPERS = ["run.py", "timing.py", "peak.py", "provenance.py"]          # the entry point and what the scripts share


def list_benchmarks() -> str:
    """The groups, each script with its docstring's first line: ``run.py --list``."""
    import ast

    lines = []
    for group, scripts in GROUPS.items():
        lines.append(f"{group}:")
        for script in scripts:
            doc = ast.get_docstring(ast.parse((HERE / script).read_text())) or ""
            lines.append(f"  {script:<24}{doc.splitlines()[0] if doc else ''}")
    lines.append("make bench runs the speed suite (run.py's sections) and then classroom.py --students 8; "
                 "any script alone: python benchmarks/SCRIPT.py --help")
    return "\n".join(lines)
RESULTS = HERE / "results" / "latest.json"
SECTIONS = ("epoch", "time_to_99", "eval", "latency", "predict", "techniques", "notebooks")


@dataclass(frozen=True)
class Sizes:
    """How much of each measurement to run. The defaults are the full run."""

    epoch_repeats: int = 3              # interleaved rounds of (DataLoader, BatchLoader, fit, peak)
    epoch_steps: int | None = None      # batches per timed epoch; None: the whole epoch (469)
    peak_side: int = 2048               # matmul side for the peak: 17 GFLOP, ~0.1 s on 2 cores
    seeds: tuple[int, ...] = tuple(range(10))  # time to 99%: one run per recipe (default, fast) per seed
    ttt_epochs: int | None = None       # None: the recipe's own count (TrainConfig().epochs)
    ttt_train: int | None = None        # training images; None: all 60,000
    ttt_test: int | None = None         # test images; None: all 10,000
    eval_repeats: int = 7               # interleaved rounds over the eval batch sizes
    eval_images: int | None = None      # None: the whole test set
    forward_calls: int = 200            # single-image forwards per block ...
    forward_blocks: int = 15            # ... and blocks (the figure is the median block)
    predict_runs: int = 500             # predict_latency.py: rounds of (decode, preprocess, forward, predict)
    tech_steps: int = 32                # training steps (of 128) per round for each technique ...
    tech_repeats: int = 5               # ... and rounds
    tech_loader_steps: int = 100        # batches per DataLoader round (0 vs 2 workers)


FULL = Sizes()
SMOKE = Sizes(epoch_repeats=1, epoch_steps=4, peak_side=256, seeds=(0,), ttt_epochs=1, ttt_train=1024,
              ttt_test=256, eval_repeats=2, eval_images=512, forward_calls=10, forward_blocks=3,
              predict_runs=3, tech_steps=4, tech_repeats=1, tech_loader_steps=2)

# key: (label, unit, direction, target on 2 CPU cores, format)
TARGETS = {
    "epoch_speedup_vs_dataloader": ("epoch speed-up vs DataLoader", "x", ">=", 3.0, "{:.2f}"),
    "time_to_99_s_median": ("time to 99% test accuracy (median)", "s", "<=", 15.0, "{:.1f}"),
    "time_to_99_fast_s_median": ("time to 99%, TrainConfig.fast()", "s", "<=", 5.0, "{:.1f}"),
    "forward_latency_us_median": ("single 28x28 forward", "us", "<=", 150.0, "{:.0f}"),
    "predict_latency_ms_median": ("PNG bytes to prediction", "ms", None, None, "{:.2f}"),
    "eval_images_per_s": ("test-set evaluation", "img/s", ">=", 60_000.0, "{:,.0f}"),
    "train_fraction_of_peak": ("training FLOP/s / matmul peak", "", ">=", 0.25, "{:.3f}"),
    "train_fraction_of_peak_fast": ("the same, TrainConfig.fast()'s step", "", ">=", 0.5, "{:.3f}"),
    "notebooks_total_s": ("notebook series, executed", "s", None, None, "{:.0f}"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the suite runs, figures meaningless")
    parser.add_argument("--out", type=Path, help=f"JSON path (default {RESULTS.relative_to(HERE.parent)}; "
                                                 "a temporary file for --smoke)")
    parser.add_argument("--skip-notebooks", action="store_true", help="do not execute the notebooks")
    parser.add_argument("--only", help=f"comma-separated sections: {','.join(SECTIONS)}")
    parser.add_argument("--fast-recipe", metavar="NAME", help="time_to_99 times this recipe of recipe_search.py "
                        "(e.g. fast_aug) in the place of TrainConfig.fast(); give it its own --out")
    parser.add_argument("--compile", action="store_true", help="add torch.compile to the techniques (minutes)")
    parser.add_argument("--show", type=Path, metavar="JSON", help="print the table of an earlier run, measure nothing")
    parser.add_argument("--markdown", action="store_true", help="also print the summary as a Markdown table")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present, else CPU), cpu, cuda, mps")
    parser.add_argument("--list", action="store_true", help="list every benchmark by group (speed, memory, "
                        "classroom, quality), measure nothing")
    args = parser.parse_args(argv)
    if args.list:
        print(list_benchmarks())
        return 0
    if args.show:
        results = json.loads(args.show.read_text())
        print_table(results)
        if args.markdown:
            print("\n" + markdown_table(results))
        return 0

    sizes = SMOKE if args.smoke else FULL
    fast = None
    if args.fast_recipe:
        from recipe_search import RECIPES as CANDIDATES
        if args.fast_recipe not in CANDIDATES:
            parser.error(f"unknown --fast-recipe {args.fast_recipe!r}: choose from {', '.join(CANDIDATES)}")
        if args.out is None or args.out.resolve() == RESULTS.resolve():
            parser.error("--fast-recipe measures a candidate, not TrainConfig.fast(): give it its own --out, e.g. "
                         f"benchmarks/results/time_to_99_{args.fast_recipe}.json")
        fast = CANDIDATES[args.fast_recipe][0]
    sections = SECTIONS if not args.only else tuple(s.strip() for s in args.only.split(","))
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    skipped: dict[str, str] = {}
    if "notebooks" in sections and (args.smoke or args.skip_notebooks):
        skipped["notebooks"] = "--smoke" if args.smoke else "--skip-notebooks"
        sections = tuple(s for s in sections if s != "notebooks")
    out = args.out or (Path(tempfile.gettempdir()) / "lenet-bench-smoke.json" if args.smoke else RESULTS)

    device = pick_device(args.device)
    results: dict = {"mode": "smoke" if args.smoke else "full", "sizes": asdict(sizes),
                     "machine": timing.machine(device), **{key: None for key in TARGETS},
                     "details": {}, "skipped": skipped, "errors": {}}
    if args.fast_recipe:
        results["fast_recipe"] = {"name": args.fast_recipe, "changes": fast}
    start = time.perf_counter()
    train, test = load_mnist("train"), load_mnist("test")

    def run(section: str, fn) -> None:
        if section not in sections:
            return
        print(f"[bench] {section} ...", file=sys.stderr, flush=True)
        t = time.perf_counter()
        try:
            found = fn()
        except Exception as err:  # one broken section must not hide the others' figures
            traceback.print_exc()
            results["errors"][section] = f"{type(err).__name__}: {err}"
            return
        results["details"][section] = found.pop("details")
        results["details"][section]["section_seconds"] = time.perf_counter() - t
        results.update(found)

    def fresh_model() -> torch.nn.Module:
        set_seed(0)
        return LeNet5().to(device).eval()  # weights do not change the timings

    def subset(split, n):
        return split if n is None else split.subset(n)

    run("epoch", lambda: epoch.measure(train, device, repeats=sizes.epoch_repeats, max_steps=sizes.epoch_steps,
                                       peak_side=sizes.peak_side))
    run("time_to_99", lambda: time_to_99.measure(subset(train, sizes.ttt_train), subset(test, sizes.ttt_test), device,
                                                 seeds=list(sizes.seeds), epochs=sizes.ttt_epochs, fast=fast,
                                                 peak_side=sizes.peak_side))
    run("eval", lambda: eval_speed.measure(fresh_model(), subset(test, sizes.eval_images), repeats=sizes.eval_repeats))
    run("latency", lambda: latency.measure_forward(fresh_model(), test, calls=sizes.forward_calls,
                                                   blocks=sizes.forward_blocks))
    run("predict", lambda: latency.measure_predict(runs=sizes.predict_runs))
    run("techniques", lambda: techniques.measure(train, device, steps=sizes.tech_steps, repeats=sizes.tech_repeats,
                                                 compile=args.compile, loader_steps=sizes.tech_loader_steps))
    run("notebooks", lambda: notebook_times.measure())

    results["machine"]["load_average_end"] = timing.load_average()
    results["seconds"] = time.perf_counter() - start
    results["targets"] = check_targets(results, smoke=args.smoke)
    print_table(results)
    if args.markdown:
        print("\n" + markdown_table(results))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=_json_default) + "\n")
    print(f"\nwrote {out}")
    return 1 if results["errors"] else 0


def check_targets(results: dict, *, smoke: bool) -> dict:
    """``{key: {"target", "met"}}``; ``met`` is None when not judged (smoke run, or no figure)."""
    checks = {}
    for key, (_, _, direction, target, _) in TARGETS.items():
        if direction is None:
            continue
        value = results.get(key)
        met = None
        if not smoke and value is not None:
            met = value >= target if direction == ">=" else value <= target
        checks[key] = {"target": f"{direction} {target:g}", "met": met}
    return checks


def print_table(results: dict) -> None:
    m = results["machine"]
    print(f"\nLeNet-5 benchmarks ({results['mode']} run): {m['cpu']}, {m['logical_cpus']} logical CPUs, "
          f"{m['torch_threads']} torch threads, device {m['device']}, torch {m['torch']}")
    loads = (m["load_average_start"] or [0])[:1] + (m["load_average_end"] or [0])[:1]
    busy = max(loads) > (m["logical_cpus"] or 1)
    print(f"load average at start {m['load_average_start']}, at end {m['load_average_end']}"
          + (f": above {m['logical_cpus']} cores, other work competed and the figures are not the code's alone"
             if busy else "") + "\n")
    print(f"{'':36} {'value':>12}  {'target':>10}  ")
    for key, (label, unit, direction, target, fmt) in TARGETS.items():
        value = results.get(key)
        shown = "-" if value is None else fmt.format(value) + (f" {unit}" if unit else "")
        goal = "" if direction is None else f"{direction} {target:g}"
        verdict = results["targets"].get(key, {}).get("met")
        mark = {True: "met", False: "MISSED", None: ""}[verdict]
        section = _section_of(key)
        note = results["skipped"].get(section) or ("error" if section in results["errors"] else None)
        print(f"{label:36} {shown:>12}  {goal:>10}  {mark}{'  (' + note + ')' if note else ''}")

    d = results["details"]
    if "epoch" in d:
        e = d["epoch"]
        spe = e["seconds_per_epoch"]
        print(f"\nseconds per epoch (median of {e['repeats']}, "
              f"{e['steps_timed']} of {e['steps_per_epoch']} batches timed): "
              + ", ".join(f"{k} {v['median']:.2f}" for k, v in spe.items()))
        if "shared_map_over_float_copy" in e:  # runs before the class-load issue did not measure it
            print(f"  shared uint8 map over a float copy per process: {e['shared_map_over_float_copy']:.3f}x the "
                  "seconds per epoch")
        print(f"  loader alone {e['loader_speedup']:.2f}x, "
              f"fit's other defaults {e['fit_over_plain_loop_speedup']:.2f}x "
              f"(of which folding {e['fold_speedup']:.2f}x); "
              f"training {e['train_images_per_s']:,.0f} img/s = {e['train_gflops']:.1f} GFLOP/s of LeNet-5's FLOPs, "
              f"matmul peak {e['peak_gflops']['median']:.1f} GFLOP/s")
        print(f"  executed: {e['executed_flop_per_image'] / 1e6:.3f} "
              f"of LeNet-5's {e['train_flop_per_image'] / 1e6:.3f} MFLOP per image (folding), "
              f"so the cores run at {e['executed_fraction_of_peak']:.3f} of the peak")
    if "time_to_99" in d:
        t = d["time_to_99"]

        def fmt(v: float | None) -> str:
            return "-" if v is None else f"{v:.1f}"

        print(f"time to {t['target']:.0%} test accuracy over {len(t['seeds'])} seeds, recipes taking turns "
              "(test pass after each epoch included):")
        for name, r in t.get("recipes", {}).items():
            s = r["seconds_to_target"]
            print(f"  {name:8} median {fmt(s['median'])} s, worst {fmt(s['max'])} s, "
                  f"{r['seeds_reaching_target']}/{len(t['seeds'])} seeds reach it; final test accuracy "
                  f"{r['final_test_acc']['min']:.4f}-{r['final_test_acc']['max']:.4f}; "
                  f"epoch {r['epoch_s']:.2f} s ({r['train_images_per_s']:,.0f} img/s, "
                  f"batch {r['recipe']['batch_size']}), "
                  f"{r['train_fraction_of_peak']:.3f} of the peak")
        if "fast_over_default" in t:
            f = t["fast_over_default"]
            speedup = "-" if f["seconds_to_target_speedup"] is None else f"{f['seconds_to_target_speedup']:.2f}x"
            rate = "-" if f["train_images_per_s_ratio"] is None else f"{f['train_images_per_s_ratio']:.2f}x"
            print(f"  fast over default, per seed: {speedup} less time to {t['target']:.0%}, {rate} the step rate")
    if "eval" in d:
        print("evaluation by batch size (img/s): "
              + ", ".join(f"{k.removeprefix('batch_')} {v['median']:,.0f}"
                          for k, v in d["eval"]["images_per_s"].items()))
    if "latency" in d:
        print("single forward (us): "
              + ", ".join(f"{k} {v['median']:.0f}" for k, v in d["latency"]["latency_us"].items()))
    if "predict" in d:
        p = d["predict"]
        print(f"PNG to prediction (ms): photo PNG {p['predict_image_ms']:.2f} (decoding {p['decode_ms']:.2f}, "
              f"the rest {p['beyond_decode_ms']:.2f}, of which forward {p['forward_ms']:.2f}), "
              f"the photo as a grey PNG {p['grey_predict_image_ms']:.2f} (decoding {p['grey_decode_ms']:.2f}), "
              f"scan PNG {p['scan_predict_image_ms']:.2f} (decoding {p['scan_decode_ms']:.2f}, "
              f"the rest {p['scan_beyond_decode_ms']:.2f})")
    if "techniques" in d:
        t = d["techniques"]
        print("training step, speed-up over NCHW: "
              + ", ".join(f"{k} {v:.2f}x" for k, v in t["speedup_vs_nchw"].items())
              + f"; DataLoader with 2 workers {t['dataloader_workers_2_speedup']:.2f}x over none")
    if "notebooks" in d:
        n = d["notebooks"]
        print("notebooks (s): " + ", ".join(f"{k} {v:.1f}" for k, v in n["seconds"].items())
              + ("".join(f"\n  FAILED {k}: {v}" for k, v in n["failed"].items())))
    for section, reason in results["skipped"].items():
        print(f"skipped: {section} ({reason}; not a test, just not measured)")
    for section, err in results["errors"].items():
        print(f"ERROR in {section}: {err}")


def markdown_table(results: dict) -> str:
    """The summary as a Markdown table, for benchmarks/README.md."""
    rows = ["| measurement | key | value | target on 2 CPU cores | |", "|---|---|---:|---:|---|"]
    for key, (label, unit, direction, target, fmt) in TARGETS.items():
        value = results.get(key)
        shown = "-" if value is None else fmt.format(value) + (f" {unit}" if unit else "")
        goal = "" if direction is None else f"{direction} {target:g}"
        met = results["targets"].get(key, {}).get("met")
        rows.append(f"| {label} | `{key}` | {shown} | {goal} | { {True: 'met', False: 'missed'}.get(met, '') } |")
    return "\n".join(rows)


def _section_of(key: str) -> str:
    return {"epoch_speedup_vs_dataloader": "epoch", "train_fraction_of_peak": "epoch",
            "time_to_99_s_median": "time_to_99", "eval_images_per_s": "eval",
            "time_to_99_fast_s_median": "time_to_99", "train_fraction_of_peak_fast": "time_to_99",
            "forward_latency_us_median": "latency", "predict_latency_ms_median": "predict",
            "notebooks_total_s": "notebooks"}[key]


def _json_default(value):
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


if __name__ == "__main__":
    sys.exit(main())
