"""Pictures and tables for notebook 04b (the 1998 network): Fig. 2 from the module, the RBF bitmaps,
the error per pass against the paper's Fig. 5, and the two networks side by side."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from matplotlib.axes import Axes

from ..paper1998.model import LeNet5Paper, connection_counts, layer_table, rbf_codes
from ..paper1998.train import recipe_of
from ..paths import PACKAGE_DIR
from .diagram import ArchitectureDiagram, Block

__all__ = ["PAPER_RESULTS", "modern_connections", "paper_diagram", "plot_error_per_pass", "plot_rbf_codes",
           "read_paper_results", "run_label"]

PAPER_RESULTS = PACKAGE_DIR.parent / "benchmarks" / "results" / "paper1998.json"
OPS = {"C1": "5×5 conv, then tanh", "S2": "2×2 sum × coef + bias, tanh", "C3": "5×5 conv, Table I, tanh",
       "S4": "2×2 sum × coef + bias, tanh", "C5": "5×5 conv (full), tanh", "F6": "full, then tanh",
       "output": "Euclidean RBF"}


def paper_diagram(model: LeNet5Paper | None = None) -> ArchitectureDiagram:
    """The paper's Fig. 2 drawn by the course's diagram code, the shapes and counts read off the module."""
    rows = layer_table(model)
    blocks = [Block("input", (1, 32, 32), 0, "")]
    blocks += [Block(r["layer"], tuple(r["shape"]), int(r["parameters"]), OPS[r["layer"]]) for r in rows]
    total = sum(b.params for b in blocks)
    return ArchitectureDiagram(blocks, f"LeNet-5 (1998): {total:,} parameters, "
                                       f"{connection_counts(model)['total']:,} connections")


def plot_rbf_codes(codes: torch.Tensor | None = None, ax: Axes | None = None) -> Axes:
    """The ten 7x12 bitmaps of Fig. 3 side by side (ink black)."""
    import matplotlib.pyplot as plt

    codes = rbf_codes() if codes is None else codes
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 1.6))
    strip = torch.cat([torch.cat([c.view(12, 7), torch.full((12, 1), -1.0)], 1) for c in codes], 1)
    ax.imshow(-strip, cmap="gray", vmin=-1, vmax=1)
    ax.set_xticks([8 * d + 3 for d in range(10)], [str(d) for d in range(10)])
    ax.set_yticks([])
    ax.set_title("the RBF units' fixed codes (Fig. 3): F6 must draw the digit")
    return ax


def read_paper_results(path: str | Path | None = None) -> dict:
    """benchmarks/results/paper1998.json: the runs, per pass, and their summary."""
    return json.loads(Path(path or PAPER_RESULTS).read_text())


def run_label(run: dict) -> str:
    """A run of the result file in words: "sdlm, batch 1, distorted, curvature once, seed 0" (with "eta x2, "
    before the seed where the paper's schedule of eta was scaled)."""
    r = recipe_of(run)
    return (f"{r['optimizer']}, batch {r['batch_size']}, " + ("distorted, " if r["distort"] else "")
            + ("curvature once, " if r["curvature"] == "once" else "curvature each pass, ")
            + (f"eta x{r['eta_scale']:g}, " if r["eta_scale"] != 1 else "") + f"seed {r['seed']}")


def plot_error_per_pass(results: dict, batch_size: int = 1, ax: Axes | None = None) -> Axes:
    """Test error per pass of every SDLM run one ``batch_size`` at a time, and the training error of those
    without distortions (dashed), against the paper's end points (Fig. 5): a colour per recipe."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    colours: dict[str, str] = {}
    labelled: set[str] = set()
    for run in results["runs"]:
        r = run["recipe"]
        if r["optimizer"] != "sdlm" or r["batch_size"] != batch_size:
            continue
        recipe = run_label(run).rsplit(", seed", 1)[0]
        colour = colours.setdefault(recipe, f"C{len(colours)}")
        passes = [h["pass"] for h in run["history"]]
        ax.plot(passes, [100 * h["test_error"] for h in run["history"]], marker="o", ms=3, color=colour,
                label=None if recipe in labelled else recipe)
        labelled.add(recipe)
        if not r["distort"]:
            ax.plot(passes, [100 * h["train_error"] for h in run["history"]], ls="--", lw=0.8, color=colour)
    paper = results["paper"]
    ax.axhline(100 * paper["no_distortions"], color="k", lw=1,
               label=f"paper: test {100 * paper['no_distortions']:.2f}%")
    ax.axhline(100 * paper["distortions"], color="k", lw=1, ls="-.",
               label=f"paper, distortions: {100 * paper['distortions']:.2f}%")
    ax.axhline(100 * paper["train_error_pass_19"], color="k", lw=1, ls=":",
               label=f"paper: training {100 * paper['train_error_pass_19']:.2f}%")
    ax.set_yscale("log")
    ax.set_xlabel("pass through the training set")
    ax.set_ylabel("error (%)  [dashed: training]")
    ax.set_title(f"one image at a time (batch {batch_size}), a line per seed" if batch_size == 1
                 else f"batches of {batch_size}, a line per seed")
    ax.legend(fontsize=7)
    return ax


def modern_connections(model: torch.nn.Module) -> int:
    """Connections of the course's LeNet-5, counted as the paper counts them: every input of a unit
    plus its bias, for each unit of each convolution, pooling and Linear layer (one forward pass)."""
    from torch import nn

    total = 0

    def count(layer: nn.Module, inputs: tuple[torch.Tensor], out: torch.Tensor) -> None:
        nonlocal total
        units = out[0].numel()
        if isinstance(layer, nn.Conv2d):
            total += units * (layer.in_channels // layer.groups * layer.kernel_size[0] * layer.kernel_size[1]
                              + (layer.bias is not None))
        elif isinstance(layer, nn.Linear):
            total += units * (layer.in_features + (layer.bias is not None))
        elif isinstance(layer, (nn.AvgPool2d, nn.MaxPool2d)):
            k = layer.kernel_size if isinstance(layer.kernel_size, int) else layer.kernel_size[0]
            total += units * k * k

    hooks = [m.register_forward_hook(count) for m in model.modules()
             if isinstance(m, (nn.Conv2d, nn.Linear, nn.AvgPool2d, nn.MaxPool2d))]
    try:
        with torch.no_grad():
            model(torch.zeros(1, 1, 28, 28))
    finally:
        for h in hooks:
            h.remove()
    return total
