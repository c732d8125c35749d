"""Training curves: one run's loss and accuracy, redrawn live while ``fit`` trains (notebook 03),
and many runs' losses overlaid (the layer lab, notebook 06).

Like every figure in :mod:`lenet_utils.lessons.plots` (which re-exports these), each helper takes
``ax=None`` (a new figure when omitted) and returns its axes.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

if TYPE_CHECKING:
    from ..training import History

SMOOTH = 40  # training curves: the mean of the last 40 batches (one batch alone is noisy)


def plot_curve(history: History, metric: str = "loss", ax: Axes | None = None, smooth: int = SMOOTH) -> Axes:
    """Train and validation ``"loss"`` or ``"acc"`` from a :class:`~lenet_utils.training.History`.

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
        x, running = running_curve(history, metric, smooth)                   # (steps - smooth + 1,)
        ax.plot(x, running, "-", lw=1.2, label=f"train (last {min(smooth, len(steps))} batches)")
    elif len(history):
        ax.plot([e.epoch for e in history], history.column(f"train_{metric}"), "o-", label="train")
    test = history.column(f"val_{metric}")
    if test and not all(math.isnan(v) for v in test):
        ax.plot(epoch_ends(history), test, "s-", label="validation, after each epoch")
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

    The first picture comes after ``every`` batches, later ones every ``every`` batches as long
    as drawing has taken at most 1/``budget`` of the time since training began (the default: 1.7%,
    not counting laying out the axes once at the first batch; ``benchmarks/live_plot.py`` measures
    the whole cost). The last batch is always drawn. The figure's title
    says how far training is ("batch 940 of 2,345, epoch 3 of 5, 12 s"), so ``fit(...,
    progress=False)`` needs no progress bar beside it.

    Why it is cheap: the axes, their labels and the legend are drawn once and kept as a background
    picture; each redraw draws only the curves and the title over it (matplotlib's "blitting"),
    and sends the picture as a PNG. ``show=False`` makes the same PNGs (``last_png``) without
    displaying them."""

    def __init__(self, every: int = 40, budget: float = 60.0, figsize: tuple[float, float] = (10, 3.5),
                 dpi: int = 80, show: bool = True):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.every, self.budget, self._clock = every, budget, time.perf_counter
        self.fig, self.axes = plt.subplots(1, 2, figsize=figsize, dpi=dpi)
        plt.close(self.fig)                        # shown as PNGs below, not again by the inline backend
        self.canvas = FigureCanvasAgg(self.fig)    # draws into memory
        self.title = self.fig.suptitle(f"training: the curves start after {every} batches", fontsize=11,
                                       animated=True)   # drawn over the background every time
        self.redraws, self.backgrounds, self.seconds, self.drawn_at, self.done = 0, 0, 0.0, 0, False
        self.started: float | None = None          # the clock at fit's first batch
        self.setup = 0.0                           # seconds spent laying the axes out then (not budgeted)
        self._background, self._xmax, self.last_png = None, 0.0, b""
        first = self._picture(None)                # the empty axes, laid out once, before training starts
        self.view = None
        if show:
            from IPython.display import Image, display

            self.view = display(Image(first), display_id=True)

    def __call__(self, history: History) -> None:
        """``fit`` calls this after every batch and after every epoch: redraw when it is time."""
        if self.done:
            return
        if self.started is None:                   # the first batch: lay out the axes for this run, once
            self.started = self._clock()
            self._picture(history)
            self.setup = self.seconds = self._clock() - self.started
        waited = history.steps_done - self.drawn_at >= self.every
        affordable = (self.seconds - self.setup) * self.budget <= self._clock() - self.started
        last_epoch_scored = len(history) and history.final.epoch * history.steps_per_epoch >= history.total_steps
        if (waited and affordable) or last_epoch_scored:
            self.redraw(history)
            self.done = bool(last_epoch_scored)   # the final picture, with the last validation point

    def redraw(self, history: History) -> None:
        start = self._clock()
        self.title.set_text(self.progress(history))
        png = self._picture(history)
        if self.view is not None:
            from IPython.display import Image

            self.view.update(Image(png))
        self.redraws, self.drawn_at = self.redraws + 1, history.steps_done
        self.seconds += self._clock() - start

    def progress(self, history: History) -> str:
        """How far training is, for the figure's title: ``"batch 940 of 2,345, epoch 3 of 5, 12 s"``."""
        per_epoch = history.steps_per_epoch or 1
        epochs = max(1, math.ceil(history.total_steps / per_epoch))
        epoch = min(epochs, max(1, math.ceil(history.steps_done / per_epoch)))
        seconds = self._clock() - self.started if self.started is not None else 0.0
        done = "done: " if len(history) and history.steps_done >= history.total_steps else ""
        return (f"{done}batch {history.steps_done:,} of {history.total_steps:,}, "
                f"epoch {epoch} of {epochs}, {seconds:.0f} s")

    # --- drawing: a background, and the moving parts over it -------------------------------------
    def _picture(self, history: History | None) -> bytes:
        """The figure as PNG bytes: the background (re)drawn when its axes must change, then the
        train and validation curves and the title over it."""
        from PIL import Image

        from ..training import History

        history = History() if history is None else history   # (an empty History is falsy: no `or`)
        xmax = history.total_steps / history.steps_per_epoch if history.total_steps else 1.0
        if self._background is None or xmax != self._xmax or not self._curves_fit(history):
            self._draw_background(history, xmax)
        self.canvas.restore_region(self._background)
        for ax, metric in zip(self.axes, ("loss", "acc")):
            train, test = (_line(ax, "train"), _line(ax, "test"))
            train.set_data(*running_curve(history, metric))
            test.set_data(epoch_ends(history), history.column(f"val_{metric}"))
            ax.draw_artist(train)
            ax.draw_artist(test)
        self.fig.draw_artist(self.title)
        buf = io.BytesIO()
        Image.frombuffer("RGBA", self.canvas.get_width_height(), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1
                         ).save(buf, format="png", compress_level=1)   # fast: the picture is sent, not kept
        self.last_png = buf.getvalue()
        return self.last_png

    def _draw_background(self, history: History, xmax: float) -> None:
        """Axes, labels, legend and grid, without the curves: drawn once, and again only when
        the epochs' axis or the loss' range must change."""
        top = max(2.5, 1.15 * float(running_curve(history, "loss")[1].max(initial=0.0)))  # ln 10 = 2.3 at first
        for ax, metric in zip(self.axes, ("loss", "acc")):
            ax.clear()
            for gid, style, label in (("train", "-", f"train (last {SMOOTH} batches)"),
                                      ("test", "s-", "validation, after each epoch")):
                ax.plot([], [], style, lw=1.2, label=label, gid=gid, animated=True)  # drawn over, not in
            ax.set_title("loss" if metric == "loss" else "accuracy")
            ax.set_xlabel("epoch")
            ax.set_ylabel("cross-entropy loss" if metric == "loss" else "accuracy")
            ax.set_xlim(0, xmax)
            ax.set_ylim(0, top if metric == "loss" else 1.0)
            ax.grid(alpha=0.3)
            ax.legend(loc="upper right" if metric == "loss" else "lower right", fontsize=8)
        if self._background is None:               # laid out once: the tick labels keep their widths
            self.fig.tight_layout()
        self.canvas.draw()
        self._background, self._xmax = self.canvas.copy_from_bbox(self.fig.bbox), xmax
        self.backgrounds += 1

    def _curves_fit(self, history: History) -> bool:
        _, loss = running_curve(history, "loss")
        return not len(loss) or loss.max() <= self.axes[0].get_ylim()[1]


def running_curve(history: History, metric: str, smooth: int = SMOOTH) -> tuple[np.ndarray, np.ndarray]:
    """The training ``metric`` per batch, averaged over the last ``smooth`` batches, against epochs:
    ``(x, y)``, both ``(steps - smooth + 1,)`` (empty before the first batch)."""
    steps = history.step_losses if metric == "loss" else history.step_accs
    if not steps:
        return np.zeros(0), np.zeros(0)
    per_epoch = history.steps_per_epoch or len(steps)
    width = min(smooth, len(steps))
    running = np.convolve(np.asarray(steps, dtype=float), np.ones(width) / width, mode="valid")
    return (np.arange(len(running)) + width) / per_epoch, running


def epoch_ends(history: History) -> list[float]:
    """Where each scored epoch ended, in epochs: 1, 2, ...; a run cut short by ``max_steps`` ends
    its last epoch early (700 batches at 469 an epoch: 1, 1.49)."""
    per_epoch = history.steps_per_epoch or 1
    end = history.total_steps / per_epoch if history.total_steps else float("inf")
    return [min(e.epoch, end) for e in history]


def _line(ax: Axes, gid: str):
    return next(line for line in ax.lines if line.get_gid() == gid)


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
