"""MNIST in memory: memory-mapped, normalised a slice at a time, batched by slicing (notebook 01).

The files themselves are fetched and checked by :mod:`.mnist_files` (``prepare_mnist``).

Why tensors and slicing: the usual ``DataLoader`` builds each batch from 128 separate PIL
images in Python. MNIST is 47 MB of bytes, so a split is one uint8 tensor, memory-mapped from its
IDX file (one copy per machine, however many kernels), and a batch is ``pixels[perm[i:i + 128]]``
made float and normalised on the spot: 2-3x faster per epoch on a 2-core CPU (``benchmarks/``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .mnist_files import ENV_VAR, FILE_SIZES, MNIST_MD5, MNIST_MEAN, MNIST_STD, SPLITS, MNISTUnavailable, prepare_mnist
from .paths import data_root

__all__ = ["ENV_VAR", "MNIST_MD5", "MNIST_MEAN", "MNIST_STD", "SPLITS", "SPLIT_SIZES", "VAL_SIZE", "Augment",
           "BatchLoader", "MNISTSplit", "MNISTUnavailable", "NormalizedImages", "load_mnist", "normalize",
           "prepare_mnist", "read_idx"]

# The splits a lesson uses. MNIST ships two files, 60,000 training and 10,000 test digits. Every choice
# (a recipe, an epoch count, a temperature, a leaderboard's order) is made on a VALIDATION split held
# out of the training file: its last 5,000 digits (55,000-59,999; 458-563 of each class). A fixed
# slice, not a random draw: nothing to seed, the same digits in every kernel, and still a view of the
# memory-mapped file. The test split is scored once per trained model, to report it, never to choose.
# "train_full" (all 60,000) is the old training split, for the lessons that describe the file itself.
VAL_SIZE = 5_000
SPLIT_SIZES = {"train": FILE_SIZES["train"] - VAL_SIZE, "val": VAL_SIZE, "test": FILE_SIZES["test"],
               "train_full": FILE_SIZES["train"]}
_FILE_OF = {"train": "train", "val": "train", "test": "test", "train_full": "train"}   # split -> IDX file
_ROWS = {"train": slice(0, SPLIT_SIZES["train"]), "val": slice(SPLIT_SIZES["train"], None),
         "test": slice(None), "train_full": slice(None)}


# --- in memory ------------------------------------------------------------------------------
class NormalizedImages:
    """``split.images``: the network's input, made one slice at a time.

    ``images[a:b]`` (or any index) is ``(B, 1, 28, 28)`` float32, normalised with the training
    mean and std. Nothing is stored: a float copy of the whole training set is 188 MB per kernel,
    30 students would hold 30 of them, and training and evaluation only ever need one batch.
    ``images[:]`` makes the full copy when you really want it."""

    def __init__(self, pixels: torch.Tensor):
        self.pixels = pixels                                       # (N, 28, 28) uint8

    def __len__(self) -> int:
        return len(self.pixels)

    def __getitem__(self, index: int | slice | torch.Tensor | tuple) -> torch.Tensor:
        first, rest = (index[0], index[1:]) if isinstance(index, tuple) else (index, ())
        x = normalize(self.pixels[first])                          # (B, 1, 28, 28), or (28, 28)
        if x.dim() == 2:
            x = x.unsqueeze(0)                                     # one image: (1, 28, 28)
            return x[rest] if rest else x
        return x[(slice(None), *rest)] if rest else x

    @property
    def shape(self) -> torch.Size:
        return torch.Size((len(self.pixels), 1, *self.pixels.shape[1:]))

    dtype = torch.float32

    def __repr__(self) -> str:
        return f"NormalizedImages({tuple(self.shape)}, float32, made per slice from uint8 pixels)"


@dataclass(eq=False)
class MNISTSplit:
    """One split: ``pixels`` (N, 28, 28) uint8 (0 is paper, 255 is ink), ``labels`` (N,) int64.

    ``load_mnist`` memory-maps ``pixels`` from the IDX file: every kernel on the machine reads the
    same pages of the page cache, so a class holds one copy of MNIST, not one per student."""

    pixels: torch.Tensor
    labels: torch.Tensor
    name: str = "train"

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def images(self) -> NormalizedImages:
        """The network's input ``(N, 1, 28, 28)`` float32, normalised a slice at a time."""
        return NormalizedImages(self.pixels)

    def subset(self, count_or_indices: int | torch.Tensor) -> MNISTSplit:
        """The first ``n`` examples, or those at the given indices."""
        idx = count_or_indices
        if isinstance(idx, int):
            idx = slice(0, idx)
        return MNISTSplit(self.pixels[idx], self.labels[idx], self.name)


def normalize(pixels: torch.Tensor, mean: float = MNIST_MEAN, std: float = MNIST_STD) -> torch.Tensor:
    """uint8 pixels ``(N, 28, 28)`` -> float ``(N, 1, 28, 28)``: ``(p / 255 - mean) / std``."""
    x = pixels.float().div_(255.0)
    if x.dim() == 3:
        x = x.unsqueeze(1)  # (N, 1, 28, 28): one greyscale channel
    return x.sub_(mean).div_(std)


# Each IDX file a process loads, by (file, data root): load_mnist reads the IDX files and their
# checksum record once, then hands out slices of the same tensors. It costs no memory to keep: the
# pixels are a memory map of the file, shared with every other kernel on the machine.
_LOADED: dict[tuple[str, str], MNISTSplit] = {}


def load_mnist(split: str = "train", root: str | Path | None = None, *, download: bool = True) -> MNISTSplit:
    """A split of MNIST, prepared on first use, memory-mapped (``SPLIT_SIZES``):

    ``"train"`` (55,000: training digits 0-54,999), ``"val"`` (5,000: training digits 55,000-59,999,
    for every choice), ``"test"`` (10,000: scored once per trained model), ``"train_full"`` (all 60,000
    training digits: the file as published). Later calls in the same process share the same tensors."""
    if split not in SPLIT_SIZES:
        raise ValueError(f"split={split!r} is not one of " + ", ".join(repr(s) for s in SPLIT_SIZES))
    root = (Path(root) if root is not None else data_root()).resolve()
    key = (_FILE_OF[split], str(root))
    if key not in _LOADED:
        _LOADED[key] = _load(_FILE_OF[split], root, download)
    whole, rows = _LOADED[key], _ROWS[split]
    if rows == slice(None):
        return whole if split == whole.name else MNISTSplit(whole.pixels, whole.labels, split)
    return MNISTSplit(whole.pixels[rows], whole.labels[rows], split)   # views: no copy


def _load(split: str, root: Path, download: bool) -> MNISTSplit:
    prepare_mnist(root, download=download)
    raw = root / "MNIST" / "raw"
    images, labels = (read_idx(raw / name) for name in SPLITS[split])
    if images.dim() != 3 or labels.dim() != 1 or len(images) != len(labels):
        raise MNISTUnavailable(f"The MNIST files in {raw} do not hold one label per image "
                               f"({tuple(images.shape)} images, {tuple(labels.shape)} labels). "
                               "Delete that folder and run again.")
    return MNISTSplit(images, labels.long(), split)  # labels: 60,000 int64s, a private 0.5 MB


def read_idx(path: Path) -> torch.Tensor:
    """An IDX file of unsigned bytes as a tensor backed by the file itself (``np.memmap``).

    Copy-on-write (``mode="c"``): the pages are shared with every other process that maps the same
    file until someone writes to them; a write changes only that process's copy, never the file."""
    with open(path, "rb") as f:
        header = f.read(4)
        if len(header) < 4 or header[:2] != b"\0\0" or header[2] != 0x08:
            raise MNISTUnavailable(f"{path} is not an IDX file of unsigned bytes. Delete it and run again.")
        dims = tuple(int.from_bytes(f.read(4), "big") for _ in range(header[3]))
    offset, count = 4 + 4 * len(dims), math.prod(dims)
    if path.stat().st_size != offset + count:
        raise MNISTUnavailable(f"{path} holds {path.stat().st_size} bytes, its header says {offset + count}. "
                               "Delete it and run again.")
    return torch.from_numpy(np.memmap(path, dtype=np.uint8, mode="c", offset=offset, shape=dims))


# --- batching -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Augment:
    """Small random distortions per image, applied to a whole batch at once on the device.

    LeCun et al. (1998) reached 99.2% instead of 99.05% with distorted training digits.
    """

    max_shift: float = 1.5                    # pixels, in x and in y
    max_rotation: float = 8.0                 # degrees, either way
    scale: tuple[float, float] = (0.92, 1.08)  # zoom range (milder than +-10% gave 0.1% more here)
    background: float = -MNIST_MEAN / MNIST_STD  # a blank (0) pixel after normalisation

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        b, _, h, w = x.shape                                                 # (B, 1, 28, 28)
        rnd = torch.rand(b, 4, generator=generator)                          # uniform [0, 1)
        angle = torch.deg2rad((rnd[:, 0] * 2 - 1) * self.max_rotation)
        zoom = self.scale[0] + rnd[:, 1] * (self.scale[1] - self.scale[0])
        shift = (rnd[:, 2:] * 2 - 1) * self.max_shift * 2 / torch.tensor([w, h])  # pixels -> [-1, 1] units
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1),
                             torch.stack([sin, cos, shift[:, 1]], 1)], 1)    # (B, 2, 3): output -> input coords
        grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
        # sample around the background so uncovered corners stay blank paper, not grey
        return F.grid_sample(x - self.background, grid, align_corners=False) + self.background


class BatchLoader:
    """Batches from tensors already in memory (or memory-mapped): a seeded permutation, sliced.

    Each pass draws a fresh permutation from one seeded generator, so a run is reproducible
    and epochs still differ. Drop-in for a ``DataLoader`` of ``(x, y)`` in a training loop.
    ``batch_size`` has no default: the recipe's (``TrainConfig.batch_size``) is the one to pass.
    """

    def __init__(self, images: torch.Tensor | NormalizedImages, labels: torch.Tensor, batch_size: int, *,
                 shuffle: bool = True, seed: int = 0, augment: Augment | None = None,
                 drop_last: bool = False, device: torch.device | str | None = None):
        if len(images) != len(labels):
            raise ValueError(f"images ({len(images)}) and labels ({len(labels)}) differ in length")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if isinstance(images, NormalizedImages):
            images = images.pixels
        device = torch.device(device) if device is not None else images.device
        # uint8 pixels (N, 28, 28) stay as they are (on the CPU: the shared memory map) and are
        # normalised a batch at a time; float images (N, 1, 28, 28) are used as given.
        self.images = images.to(device)
        self.labels = labels.to(device)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.augment = augment
        self.drop_last = drop_last
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.labels)
        order = torch.randperm(n, generator=self.generator).to(self.images.device) if self.shuffle else None
        for i in range(len(self)):
            batch = slice(i * self.batch_size, (i + 1) * self.batch_size)
            idx = batch if order is None else order[batch]
            x, y = self.images[idx], self.labels[idx]
            if x.dtype == torch.uint8:
                x = normalize(x)                                       # (B, 28, 28) -> (B, 1, 28, 28) float
            if self.augment is not None:
                x = self.augment(x, self.generator)
            yield x, y
