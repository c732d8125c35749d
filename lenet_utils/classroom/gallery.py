"""The lecturer's view of the class's digits: numbers, figures and export, from the class store.

    g = load_gallery()                   # every share: the hub's gallery service, else $LENET_CLASS_DB
    g.accuracy(), confusion(g)           # how the shipped model did on the class's handwriting
    plot_gallery(g.only(label=7, right=False))   # the 7s it got wrong
    export_npz(g, "class_digits.npz")    # for training elsewhere

Every function works with zero shares (empty arrays, NaN accuracy, an empty grid with a note).
Plotting helpers take ``ax=None`` and return the axes, as in :mod:`lenet_utils.lessons.plots`.
"""

from __future__ import annotations

import struct
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from .. import palette
from ..data import MNISTSplit
from .service import GalleryService, class_store
from .store import ClassDB, Share

if TYPE_CHECKING:
    from matplotlib.axes import Axes


@dataclass
class Gallery:
    """The shares as arrays, oldest first. ``pixels`` (N, 28, 28) uint8, light ink on black."""

    ids: np.ndarray          # (N,) row ids in the store
    pixels: np.ndarray       # (N, 28, 28) uint8
    labels: np.ndarray       # (N,) the true digit the student gave
    predicted: np.ndarray    # (N,) what the shipped model answered when it was shared
    confidence: np.ndarray   # (N,) its confidence in that answer
    p_true: np.ndarray       # (N,) its probability for the true digit (NaN when not stored)
    nicknames: list[str]

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def right(self) -> np.ndarray:
        return self.predicted == self.labels

    def accuracy(self) -> float:
        """Share of digits the model read right (NaN with no shares)."""
        return float(self.right.mean()) if len(self) else float("nan")

    def only(self, label: int | None = None, right: bool | None = None) -> Gallery:
        """The digits showing ``label`` (None: all), and only those read right/wrong (None: both)."""
        keep = np.ones(len(self), bool)
        if label is not None:
            keep &= self.labels == label
        if right is not None:
            keep &= self.right == right
        return self.take(np.flatnonzero(keep))

    def take(self, index: np.ndarray) -> Gallery:
        index = np.asarray(index, dtype=int)
        return Gallery(self.ids[index], self.pixels[index], self.labels[index], self.predicted[index],
                       self.confidence[index], self.p_true[index], [self.nicknames[i] for i in index])

    def split(self, test_fraction: float = 0.5, seed: int = 0) -> tuple[Gallery, Gallery]:
        """(train, test), shuffled with ``seed``; each digit split in the same proportion."""
        rng = np.random.default_rng(seed)
        train, test = [], []
        for d in range(10):
            idx = rng.permutation(np.flatnonzero(self.labels == d))
            cut = int(round(len(idx) * (1 - test_fraction)))
            train += idx[:cut].tolist()
            test += idx[cut:].tolist()
        return self.take(np.sort(train)), self.take(np.sort(test))

    def as_split(self, name: str = "class") -> MNISTSplit:
        """The digits as an :class:`MNISTSplit`, so ``evaluate`` and ``fit`` take them like MNIST."""
        return MNISTSplit(torch.from_numpy(self.pixels.copy()), torch.from_numpy(self.labels.astype(np.int64)), name)


def from_shares(shares: list[Share]) -> Gallery:
    def p_true(s: Share) -> float:
        return float(s.probabilities[s.true_label]) if len(s.probabilities) == 10 else float("nan")
    return Gallery(ids=np.array([-1 if s.id is None else s.id for s in shares], dtype=np.int64),
                   pixels=np.stack([s.pixels for s in shares]) if shares else np.zeros((0, 28, 28), np.uint8),
                   labels=np.array([s.true_label for s in shares], dtype=np.int64),
                   predicted=np.array([s.predicted for s in shares], dtype=np.int64),
                   confidence=np.array([s.confidence for s in shares], dtype=np.float64),
                   p_true=np.array([p_true(s) for s in shares], dtype=np.float64),
                   nicknames=[s.nickname for s in shares])


def load_gallery(db: ClassDB | GalleryService | None = None) -> Gallery:
    """Every share in ``db`` (default: the hub's gallery service when ``$LENET_CLASS_SERVICE`` is set,
    else the class store at ``$LENET_CLASS_DB``)."""
    return from_shares((db if db is not None else class_store()).shares())


def confusion(g: Gallery) -> np.ndarray:
    """(10, 10) counts: row = the true digit, column = the model's answer."""
    cm = np.zeros((10, 10), dtype=np.int64)
    np.add.at(cm, (g.labels, g.predicted), 1)
    return cm


def hardest(g: Gallery, k: int = 16) -> Gallery:
    """The ``k`` digits the model found hardest: the lowest probability for the true digit."""
    score = np.where(np.isnan(g.p_true), np.where(g.right, g.confidence, 0.0), g.p_true)
    return g.take(np.argsort(score, kind="stable")[:k])


def per_nickname(g: Gallery) -> list[tuple[str, int, int]]:
    """(nickname, shares, read right) per student, most shares first; '' shows as '(no name)'."""
    total, right = Counter(), Counter()
    for name, ok in zip(g.nicknames, g.right):
        total[name or "(no name)"] += 1
        right[name or "(no name)"] += int(ok)
    return [(n, c, right[n]) for n, c in sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))]


def plot_gallery(g: Gallery, ax: Axes | None = None, ncols: int = 16, max_digits: int = 256,
                 title: str | None = None) -> Axes:
    """The digits as a grid, newest last; a red frame marks the ones the model got wrong."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    n = min(len(g), max_digits)
    cols = max(1, min(ncols, n))
    rows = max(1, -(-n // cols))
    if ax is None:
        _, ax = plt.subplots(figsize=(cols * 0.6, rows * 0.6 + 0.4))
    sheet = np.zeros((rows * 30, cols * 30), np.uint8)           # 28 px tiles, 2 px gaps
    for i in range(n):
        r, c = divmod(i, cols)
        sheet[r * 30 + 1:r * 30 + 29, c * 30 + 1:c * 30 + 29] = g.pixels[i]
    ax.imshow(sheet, cmap="gray", vmin=0, vmax=255)
    for i in np.flatnonzero(~g.right[:n]):
        r, c = divmod(int(i), cols)
        ax.add_patch(Rectangle((c * 30, r * 30), 29, 29, fill=False, edgecolor="red", linewidth=1.5))
        ax.text(c * 30 + 27, r * 30 + 27, str(g.predicted[i]), color="red", fontsize=7, ha="right", va="bottom")
    ax.set_xticks([]), ax.set_yticks([])
    note = "no shares yet" if n == 0 else f"{n} of {len(g)} digits; red: read wrong (its answer in the corner)"
    ax.set_title(title or note, fontsize=9)
    return ax


def plot_accuracy(class_acc: float, mnist_acc: float, ax: Axes | None = None,
                  labels: tuple[str, str] = ("MNIST test", "the class")) -> Axes:
    """Two bars: accuracy on MNIST's test set next to accuracy on the class's own digits."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(3.2, 2.6))
    values = [mnist_acc, class_acc]
    bars = ax.bar(labels, [0 if np.isnan(v) else v * 100 for v in values], color=[palette.BASELINE, palette.ACCENT])
    for b, v in zip(bars, values):
        ax.text(b.get_x() + b.get_width() / 2, b.get_height() + 1, "n/a" if np.isnan(v) else f"{v:.1%}",
                ha="center", fontsize=9)
    ax.set_ylim(0, 110)
    ax.set_ylabel("accuracy (%)")
    return ax


def export_npz(g: Gallery, path: str | Path) -> Path:
    """``pixels`` (N, 28, 28) uint8, ``labels``, ``predicted``, ``confidence``, ``ids``, ``nicknames``."""
    path = Path(path)
    np.savez_compressed(path, pixels=g.pixels, labels=g.labels.astype(np.uint8), predicted=g.predicted.astype(np.uint8),
                        confidence=g.confidence, ids=g.ids, nicknames=np.array(g.nicknames, dtype=str))
    return path


def export_idx(g: Gallery, folder: str | Path, prefix: str = "class") -> tuple[Path, Path]:
    """MNIST's own format: ``<prefix>-images-idx3-ubyte`` and ``<prefix>-labels-idx1-ubyte``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    images, labels = folder / f"{prefix}-images-idx3-ubyte", folder / f"{prefix}-labels-idx1-ubyte"
    images.write_bytes(struct.pack(">IIII", 0x803, len(g), 28, 28) + g.pixels.astype(np.uint8).tobytes())
    labels.write_bytes(struct.pack(">II", 0x801, len(g)) + g.labels.astype(np.uint8).tobytes())
    return images, labels
