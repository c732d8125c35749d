"""How long ``--help`` takes, for the program and each command, as a user runs it (issue 14).

    python benchmarks/cli_help.py              # 7 runs of each, results/cli_help.json
    python benchmarks/cli_help.py --runs 3 --no-save

Each run is a fresh ``python -m lenet_utils [COMMAND] --help`` process, timed from its start to its
exit (Python's own start-up included). The median of the runs is the figure; the bare interpreter
(``python -c pass``) is measured the same way, for scale. The target is 0.5 s: the parser imports
no PyTorch, numpy or Pillow (tests/test_cli.py checks that), so ``--help`` does not wait for them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from provenance import git_commit

from lenet_utils.cli.parser import build_parser

RESULTS = Path(__file__).resolve().parent / "results" / "cli_help.json"
TARGET_S = 0.5


def commands() -> list[str]:
    """The program itself ("") and every subcommand, read from the parser."""
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return ["", *sub.choices]


def time_runs(argv: list[str], runs: int) -> list[float]:
    """Wall seconds of ``runs`` fresh processes (after one warm-up run that fills the file cache)."""
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if i:
            times.append(time.perf_counter() - start)
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="timed runs per command (default 7)")
    ap.add_argument("--no-save", action="store_true", help=f"print only, do not write {RESULTS.name}")
    args = ap.parse_args()

    load_start = round(os.getloadavg()[0], 2)     # a busy machine shows here: the figures are whole-process times
    baseline = time_runs([sys.executable, "-c", "pass"], args.runs)
    rows = []
    print(f"{'command':<38} {'median s':>9} {'min s':>7} {'max s':>7}")
    for command in commands():
        words = ["python -m lenet_utils", *([command] if command else []), "--help"]
        times = time_runs([sys.executable, "-m", "lenet_utils", *words[1:]], args.runs)
        row = {"command": " ".join(words), "median_s": round(statistics.median(times), 3),
               "min_s": round(min(times), 3), "max_s": round(max(times), 3)}
        rows.append(row)
        print(f"{row['command']:<38} {row['median_s']:>9.3f} {row['min_s']:>7.3f} {row['max_s']:>7.3f}")
    worst = max(r["median_s"] for r in rows)
    print(f"bare interpreter (python -c pass): median {statistics.median(baseline):.3f} s")
    print(f"slowest median: {worst:.3f} s (target < {TARGET_S} s: {'met' if worst < TARGET_S else 'NOT met'})")
    results = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": git_commit(), "cores": os.cpu_count(),
        "load_start": load_start, "load_end": round(os.getloadavg()[0], 2), "runs": args.runs,
        "target_s": TARGET_S, "worst_median_s": worst,
        "python_startup_median_s": round(statistics.median(baseline), 3), "rows": rows,
    }
    if not args.no_save:
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        print(f"written: {RESULTS}")
    return 0 if worst < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
