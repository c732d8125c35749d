"""Figures for the course. Each helper takes ``ax=None`` (a new figure when omitted) and returns
its axes, so it composes into a reader's own ``plt.subplots`` layout."""

from __future__ import annotations

import math
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

DIGIT_CMAP = "gray_r"  # ink dark on white paper, as a person writes it


def mosaic(tiles: torch.Tensor | np.ndarray, ncols: int | None = None, pad: int = 1,
           fill: float = float("nan")) -> np.ndarray:
    """Lay ``(N, H, W)`` tiles out as one 2-D array, ``ncols`` per row, ``pad`` pixels apart.
    Gaps are NaN so colormaps leave them blank."""
    tiles = _numpy(tiles)
    if tiles.ndim == 4:  # (N, 1, H, W) -> (N, H, W)
        tiles = tiles[:, 0]
    n, h, w = tiles.shape
    ncols = ncols or min(n, 8)
    nrows = math.ceil(n / ncols)
    out = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), fill, dtype=np.float64)
    for i in range(n):
        r, c = divmod(i, ncols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = tiles[i]
    return out


def show_digits(images, labels: Sequence[int] | None = None, predictions: Sequence[int] | None = None,
                ncols: int = 8, ax=None, title: str | None = None):
    """A grid of digits (pixels or normalised images), each titled with its label
    (``label -> prediction`` in red when they differ)."""
    images = _numpy(images)
    if images.ndim == 4:
        images = images[:, 0]
    ax = _axes(ax, figsize=(1.1 * min(ncols, len(images)), 1.25 * math.ceil(len(images) / ncols)))
    ax.imshow(mosaic(images, ncols, pad=2), cmap=DIGIT_CMAP, interpolation="nearest")
    ax.set_axis_off()
    h, w = images.shape[1:]
    for i in range(len(images)):
        r, c = divmod(i, ncols)
        if labels is None and predictions is None:
            continue
        text, color = _caption(labels, predictions, i)
        ax.text(c * (w + 2) + w / 2, r * (h + 2) - 0.5, text, ha="center", va="bottom", fontsize=8, color=color)
    if title:
        ax.set_title(title, pad=12)
    return ax


def show_digit_values(pixels, ax=None):
    """One digit as a grid of numbers: what the network is given."""
    pixels = _numpy(pixels).squeeze()
    ax = _axes(ax, figsize=(9, 9))
    ax.imshow(pixels, cmap=DIGIT_CMAP, interpolation="nearest")
    threshold = (np.nanmax(pixels) + np.nanmin(pixels)) / 2
    for (r, c), v in np.ndenumerate(pixels):
        if v != 0:
            ax.text(c, r, f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}", ha="center", va="center",
                    fontsize=5, color="white" if v > threshold else "black")
    ax.set_xticks([]), ax.set_yticks([])
    return ax


def plot_curve(history, metric: str = "loss", ax=None, smooth: int = 40):
    """Train and test ``"loss"`` or ``"acc"`` from a :class:`~lenet_utils.training.History`.

    Training: every batch, averaged over the last ``smooth`` batches (one batch alone is noisy),
    on an axis of epochs, so a plot drawn mid-epoch already shows the curve. Test: one point
    after each epoch."""
    if metric not in ("loss", "acc"):
        raise ValueError(f"metric must be 'loss' or 'acc', got {metric!r}")
    ax = _axes(ax, figsize=(5, 3.5))
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


def plot_history(history, axes=None):
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

    def __init__(self, every: int = 40, budget: float = 100.0, figsize=(10, 3.5), dpi: int = 80, show: bool = True):
        import time

        self.every, self.budget, self._clock = every, budget, time.perf_counter
        self.fig, self.axes = plt.subplots(1, 2, figsize=figsize, dpi=dpi)
        plt.close(self.fig)                        # shown by display(), not again by the inline backend
        self.view = None
        if show:
            from IPython.display import display

            self.view = display(self.fig, display_id=True)
        self.redraws, self.seconds, self.drawn_at, self.next_draw, self.done = 0, 0.0, 0, float("-inf"), False

    def __call__(self, history) -> None:
        """``fit`` calls this after every batch and after every epoch: redraw when it is time."""
        if self.done:
            return
        waited = history.steps_done - self.drawn_at >= self.every and self._clock() >= self.next_draw
        last_epoch_scored = len(history) and history.final.epoch * history.steps_per_epoch >= history.total_steps
        if waited or last_epoch_scored:
            self.redraw(history)
            self.done = bool(last_epoch_scored)   # the final picture, with the last test point
    def redraw(self, history) -> None:
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


def plot_lr_schedule(lrs: Sequence[float], steps_per_epoch: int | None = None, ax=None):
    """The learning rate at every step; epochs marked when ``steps_per_epoch`` is given."""
    ax = _axes(ax, figsize=(5, 3))
    ax.plot(np.arange(1, len(lrs) + 1), lrs)
    if steps_per_epoch:
        for boundary in range(steps_per_epoch, len(lrs), steps_per_epoch):
            ax.axvline(boundary, color="grey", lw=0.5, ls=":")
    ax.set_xlabel("step (batch)")
    ax.set_ylabel("learning rate")
    ax.grid(alpha=0.3)
    return ax


def plot_confusion_matrix(cm: torch.Tensor, ax=None, normalize: bool = False):
    """Rows are true digits, columns predicted; off-diagonal cells are mistakes."""
    cm = _numpy(cm).astype(float)
    shown = cm / cm.sum(1, keepdims=True).clip(min=1) if normalize else cm
    ax = _axes(ax, figsize=(6, 5))
    off = shown.copy()
    np.fill_diagonal(off, np.nan)  # colour the mistakes; the diagonal would drown them
    im = ax.imshow(off, cmap="Reds")
    n = len(cm)
    for r in range(n):
        for c in range(n):
            v = shown[r, c]
            if v:
                ax.text(c, r, f"{v:.2f}" if normalize else f"{int(v)}", ha="center", va="center",
                        fontsize=7, fontweight="bold" if r == c else "normal")
    ax.set_xticks(range(n)), ax.set_yticks(range(n))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.figure.colorbar(im, ax=ax, fraction=0.046, label="mistakes" + (" (fraction of row)" if normalize else ""))
    return ax


def plot_filters(weight: torch.Tensor, ax=None, ncols: int | None = None, title: str | None = None):
    """Conv kernels ``(out, in, k, k)`` as a grid: one tile per (output, input) pair,
    red positive, blue negative, on a shared scale around 0."""
    w = _numpy(weight)
    out_ch, in_ch, kh, kw = w.shape
    tiles = w.reshape(out_ch * in_ch, kh, kw)
    ncols = ncols or (in_ch if in_ch > 1 else min(out_ch, 8))
    limit = np.abs(tiles).max() or 1.0
    ax = _axes(ax, figsize=(0.6 * ncols + 1, 0.6 * math.ceil(len(tiles) / ncols) + 0.5))
    im = ax.imshow(mosaic(tiles, ncols), cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    ax.set_axis_off()
    ax.figure.colorbar(im, ax=ax, fraction=0.046)
    if title:
        ax.set_title(title)
    return ax


def plot_feature_maps(maps: torch.Tensor, ax=None, ncols: int = 8, title: str | None = None):
    """Activations ``(C, H, W)`` (or ``(1, C, H, W)``) of one image, one tile per channel."""
    maps = _numpy(maps)
    if maps.ndim == 4:
        maps = maps[0]
    ax = _axes(ax, figsize=(1.2 * min(ncols, len(maps)), 1.3 * math.ceil(len(maps) / ncols)))
    ax.imshow(mosaic(maps, min(ncols, len(maps))), cmap="viridis", interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(f"{title}  {tuple(maps.shape)}")
    return ax


def plot_probabilities(probabilities, ax=None, highlight: int | None = None):
    """A bar per digit; the predicted (or ``highlight``) digit stands out."""
    p = _numpy(probabilities).reshape(-1)
    best = int(p.argmax()) if highlight is None else highlight
    ax = _axes(ax, figsize=(4, 2.5))
    colors = ["tab:orange" if i == best else "tab:blue" for i in range(len(p))]
    ax.bar(range(len(p)), p, color=colors)
    ax.set_xticks(range(len(p)))
    ax.set_ylim(0, 1)
    ax.set_xlabel("digit")
    ax.set_ylabel("probability")
    return ax


def plot_reliability(rel, ax=None):
    """Reliability diagram: accuracy against confidence per bin; the diagonal is perfect calibration."""
    ax = _axes(ax, figsize=(4.5, 4.5))
    edges = _numpy(rel.bin_edges)
    centers = (edges[:-1] + edges[1:]) / 2
    acc = _numpy(rel.accuracy)
    ok = ~np.isnan(acc)
    ax.bar(centers[ok], acc[ok], width=np.diff(edges)[ok], edgecolor="black", alpha=0.7, label="accuracy")
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfectly calibrated")
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1), ax.set_ylim(0, 1)
    ax.set_title(f"ECE = {rel.ece:.4f}")
    ax.legend(loc="upper left")
    return ax


def _caption(labels, predictions, i):
    if predictions is None:
        return str(int(labels[i])), "black"
    if labels is None:
        return str(int(predictions[i])), "black"
    lab, pred = int(labels[i]), int(predictions[i])
    return (str(lab), "black") if lab == pred else (f"{lab}->{pred}", "red")


def _axes(ax, figsize):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().float().numpy()
    return np.asarray(x, dtype=float)
