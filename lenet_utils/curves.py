"""Training curves: one run's loss and accuracy, redrawn live while ``fit`` trains (notebook 03),
and many runs' losses overlaid (the layer lab, notebook 06).

Like every figure in :mod:`lenet_utils.plots` (which re-exports these), each helper takes
``ax=None`` (a new figure when omitted) and returns its axes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

if TYPE_CHECKING:
    from .training import History


def plot_curve(history: History, metric: str = "loss", ax: Axes | None = None, smooth: int = 40) -> Axes:
    """Train and test ``"loss"`` or ``"acc"`` from a :class:`~lenet_utils.training.History`.

    Training: every batch, averaged over the last ``smooth`` batches (one batch alone is noisy),
    on an axis of epochs, so a plot drawn mid-epoch already shows the curve. Test: one point
    after each epoch."""
    if metric not in ("loss", "acc"):
        raise ValueError(f"metric must be 'loss' or 'acc', got {metric!r}")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    steps = history.step_losses if metric == "loss" else history.step_accs
    per_epoch = history.steps_per_epoch or max(len(steps), 1)
    if steps:
        values = np.asarray(steps, dtype=float)
        kernel = np.ones(min(smooth, len(values))) / min(smooth, len(values))
        running = np.convolve(values, kernel, mode="valid")                      # (steps - smooth + 1,)
        x = (np.arange(len(running)) + len(kernel)) / per_epoch
        ax.plot(x, running, "-", lw=1.2, label=f"train (last {len(kernel)} batches)")
    elif len(history):
        ax.plot([e.epoch for e in history], history.column(f"train_{metric}"), "o-", label="train")
    test = history.column(f"test_{metric}")
    if test and not all(math.isnan(v) for v in test):
        ax.plot([e.epoch for e in history], test, "s-", label="test, after each epoch")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy" if metric == "acc" else "cross-entropy loss")
    ax.set_title("accuracy" if metric == "acc" else "loss")
    total = history.total_steps / per_epoch if history.total_steps else max(len(history), 1)
    ax.set_xlim(0, max(total, 1e-9))
    if metric == "acc" and (steps or len(history)):
        ax.set_ylim(top=1.0)
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(loc="lower right" if metric == "acc" else "upper right", fontsize=8)
    return ax


def plot_history(history: History, axes: Sequence[Axes] | None = None) -> Sequence[Axes]:
    """Loss and accuracy side by side; returns the two axes."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    plot_curve(history, "loss", axes[0])
    plot_curve(history, "acc", axes[1])
    return axes


class LivePlot:
    """Loss and accuracy redrawn while ``fit`` trains (notebook 03): pass it as both callbacks,
    ``fit(..., step_callback=live, callback=live)``.

    The first picture comes after ``every`` batches; later ones every ``every`` batches, but only
    once the plot has been idle for ``budget`` times as long as its last redraw took, so drawing
    costs at most about 1/``budget`` of training time (a redraw takes 50-150 ms on a CPU;
    ``benchmarks/live_plot.py`` measures it). The last batch is always drawn. ``show=False`` renders
    the picture as JupyterLab would, without displaying it."""

    def __init__(self, every: int = 40, budget: float = 100.0, figsize: tuple[float, float] = (10, 3.5),
                 dpi: int = 80, show: bool = True):
        self.every, self.budget, self._clock = every, budget, time.perf_counter
        self.fig, self.axes = plt.subplots(1, 2, figsize=figsize, dpi=dpi)
        plt.close(self.fig)                        # shown by display(), not again by the inline backend
        self.view = None
        if show:
            from IPython.display import display

            self.view = display(self.fig, display_id=True)
        self.redraws, self.seconds, self.drawn_at, self.next_draw, self.done = 0, 0.0, 0, float("-inf"), False

    def __call__(self, history: History) -> None:
        """``fit`` calls this after every batch and after every epoch: redraw when it is time."""
        if self.done:
            return
        waited = history.steps_done - self.drawn_at >= self.every and self._clock() >= self.next_draw
        last_epoch_scored = len(history) and history.final.epoch * history.steps_per_epoch >= history.total_steps
        if waited or last_epoch_scored:
            self.redraw(history)
            self.done = bool(last_epoch_scored)   # the final picture, with the last test point
    def redraw(self, history: History) -> None:
        start = self._clock()
        for ax in self.axes:
            ax.clear()
        plot_history(history, self.axes)
        if self.redraws == 0:
            self.fig.tight_layout()
        if self.view is not None:
            self.view.update(self.fig)
        else:                                      # what display() does with a figure: a PNG
            from IPython.core.pylabtools import print_figure

            print_figure(self.fig, "png")
        took = self._clock() - start
        self.redraws, self.seconds, self.drawn_at = self.redraws + 1, self.seconds + took, history.steps_done
        self.next_draw = self._clock() + self.budget * took


def plot_lr_schedule(lrs: Sequence[float], steps_per_epoch: int | None = None, ax: Axes | None = None) -> Axes:
    """The learning rate at every step; epochs marked when ``steps_per_epoch`` is given."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    ax.plot(np.arange(1, len(lrs) + 1), lrs)
    if steps_per_epoch:
        for boundary in range(steps_per_epoch, len(lrs), steps_per_epoch):
            ax.axvline(boundary, color="grey", lw=0.5, ls=":")
    ax.set_xlabel("step (batch)")
    ax.set_ylabel("learning rate")
    ax.grid(alpha=0.3)
    return ax


def plot_runs(runs: Iterable[Any], ax: Axes | None = None, smooth: int = 20, highlight: str | None = None) -> Axes:
    """Training loss per batch of each run (anything with ``.losses`` and ``.label``), overlaid.

    Curves are smoothed with a moving mean over ``smooth`` batches; the y axis is logarithmic,
    since the loss falls by orders of magnitude. Returns the axes.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    drawn = 0
    for run in runs:
        losses = list(run.losses)
        if not losses:
            continue
        ys = _moving_mean(losses, smooth)
        bold = highlight is not None and run.label == highlight
        ax.plot(range(1, len(ys) + 1), ys, label=run.label, lw=2.2 if bold else 1.2, zorder=3 if bold else 2)
        drawn += 1
    ax.set_xlabel("batch")
    ax.set_ylabel("training loss (smoothed)")
    ax.set_yscale("log")
    ax.grid(alpha=0.3, which="both")
    if drawn:
        ax.legend(fontsize=8, loc="upper right")
    return ax


def _moving_mean(values: Sequence[float], window: int) -> list[float]:
    """The mean of the last ``window`` values at each point (fewer at the start)."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out
