"""What the live training plot of notebook 03 costs: ``fit`` with ``plots.LivePlot`` against
``fit`` without it, taking turns in one process (median of per-round ratios).

    python benchmarks/live_plot.py                 # 3 rounds of notebook 03's run (5 epochs)
    python benchmarks/live_plot.py --epochs 1 --steps 100 --rounds 1 --out ''

The plot renders a PNG at every redraw, as it does in JupyterLab; the figures printed are the
extra time as a share of training time (the course's budget: under 3%), from the A/B ratio and,
less noisy on a busy machine, from the time spent inside the redraws; and how often the picture
changed (batches between redraws: the issue asks for every few dozen).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import matplotlib
from provenance import git_commit

from lenet_utils import LeNet5, TrainConfig, fit, load_mnist, set_seed
from lenet_utils.lessons import plots


def one_run(train, test, steps: int | None, live: bool, epochs: int = 5,
            threads: int = 1) -> tuple[float, int, float, int]:
    """Seconds of ``fit``, and the plot's redraws, seconds spent drawing and batches trained. The
    thread count is fixed: left to the thread policy, it follows the machine's load and makes two
    runs differ by 2x for reasons that have nothing to do with the plot."""
    set_seed(0)
    plot = plots.LivePlot(show=False) if live else None
    start = time.perf_counter()
    history = fit(LeNet5(), train, test, TrainConfig(epochs=epochs, max_steps=steps), progress=False,
                  step_callback=plot, callback=plot, threads=threads)
    return (time.perf_counter() - start, plot.redraws if plot else 0, plot.seconds if plot else 0.0,
            history.steps_done)


def main() -> None:
    matplotlib.use("Agg")  # no window: every redraw renders a PNG, as JupyterLab's inline backend does
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="batches per run (default: one epoch, 469)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5, help="epochs per run (default 5: notebook 03's run)")
    parser.add_argument("--threads", type=int, default=1, help="PyTorch CPU threads for every run (default 1)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "live_plot.json"),
                        help="where to write the figures as JSON ('' for nowhere)")
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    train, test = load_mnist("train"), load_mnist("test")
    one_run(train, test, 50, True, 1, args.threads)                  # warm-up: first calls, first draw
    ratios, redraws, plain, drawing, gaps = [], [], [], [], []
    for _ in range(args.rounds):
        without, _, _, _ = one_run(train, test, args.steps, False, args.epochs, args.threads)
        with_plot, n, spent, steps = one_run(train, test, args.steps, True, args.epochs, args.threads)
        drawing.append(spent / with_plot)
        ratios.append(with_plot / without)
        redraws.append(n)
        plain.append(without)
        gaps.append(steps / n)
    print(f"fit for {args.epochs} epochs ({args.steps or 'all'} batches): "
          f"{statistics.median(plain):.2f} s without the plot; "
          f"with it {statistics.median(ratios):.3f}x ({(statistics.median(ratios) - 1) * 100:+.1f}%), "
          f"{statistics.median(redraws):.0f} redraws, one every {statistics.median(gaps):.0f} batches "
          f"(per-round ratios {', '.join(f'{r:.3f}' for r in ratios)}); "
          f"time inside the redraws: {statistics.median(drawing) * 100:.1f}% of the run")
    if args.out:
        report = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": git_commit(),
                  "cores": os.cpu_count(),
                  "load_start": round(load_start, 2), "load_end": round(os.getloadavg()[0], 2),
                  "epochs": args.epochs, "steps": args.steps, "rounds": args.rounds, "threads": args.threads,
                  "seconds_without_plot": [round(v, 2) for v in plain], "ratios": [round(r, 3) for r in ratios],
                  "redraws": redraws, "batches_between_redraws": [round(g) for g in gaps],
                  "drawing_share": [round(d, 4) for d in drawing], "target_share": 0.03}
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
