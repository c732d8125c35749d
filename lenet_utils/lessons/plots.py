"""Figures for the course: digits (notebook 01), filters and feature maps (02), mistakes and
calibration (04), probabilities (05). The training curves (03, 06) live in :mod:`.curves` and are
re-exported here, so ``plots`` is the one place a lesson draws from.

Each helper takes ``ax=None`` (a new figure when omitted) and returns its axes, so it composes
into a reader's own ``plt.subplots`` layout."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes

from ..metrics import Reliability
from .curves import LivePlot, plot_curve, plot_history, plot_lr_schedule, plot_runs

__all__ = ["DIGIT_CMAP", "LivePlot", "mosaic", "plot_confusion_matrix", "plot_curve", "plot_feature_maps",
           "plot_filters", "plot_history", "plot_lr_schedule", "plot_probabilities", "plot_reliability",
           "plot_runs", "show_digit_values", "show_digits"]

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


def show_digits(images: torch.Tensor | np.ndarray, labels: Sequence[int] | None = None,
                predictions: Sequence[int] | None = None, ncols: int = 8, ax: Axes | None = None,
                title: str | None = None) -> Axes:
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


def show_digit_values(pixels: torch.Tensor | np.ndarray, ax: Axes | None = None) -> Axes:
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


def plot_confusion_matrix(cm: torch.Tensor, ax: Axes | None = None, normalize: bool = False) -> Axes:
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


def plot_filters(weight: torch.Tensor, ax: Axes | None = None, ncols: int | None = None,
                 title: str | None = None) -> Axes:
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


def plot_feature_maps(maps: torch.Tensor, ax: Axes | None = None, ncols: int = 8, title: str | None = None) -> Axes:
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


def plot_probabilities(probabilities: torch.Tensor | Sequence[float], ax: Axes | None = None,
                       highlight: int | None = None) -> Axes:
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


def plot_reliability(rel: Reliability, ax: Axes | None = None) -> Axes:
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
