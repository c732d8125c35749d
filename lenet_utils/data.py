"""MNIST: fetched once, checked, then memory-mapped and batched by slicing.

Where the files come from:

* ``$LENET_MNIST_DIR`` (or ``source=``): a folder holding the four IDX files, gzipped or not.
  They are copied or decompressed into ``<data root>/MNIST/raw`` and checked against the
  published MD5 checksums of the decompressed files.
* otherwise torchvision downloads them, as users expect.

Why tensors and slicing: the usual ``DataLoader`` builds each batch from 128 separate PIL
images in Python. MNIST is 47 MB of bytes, so a split is one uint8 tensor, memory-mapped from its
IDX file (one copy per machine, however many kernels), and a batch is ``pixels[perm[i:i + 128]]``
made float and normalised on the spot: 2-3x faster per epoch on a 2-core CPU (``benchmarks/``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.nn.functional as F

from .paths import data_root

# MD5 of each decompressed IDX file, as published with the dataset.
MNIST_MD5: dict[str, str] = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
SPLITS = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

# Mean and standard deviation of the 60,000 training images' pixels scaled to [0, 1].
# Notebook 01 computes them from the data; tests/test_data.py checks these figures against it.
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081

ENV_VAR = "LENET_MNIST_DIR"
_STAMP = ".verified.json"


class MNISTUnavailable(RuntimeError):
    """MNIST is missing or corrupt; the message says what to do."""


# --- getting the files -----------------------------------------------------------------------
# Decompressed size of each real IDX file: no copy or decompression may write more than this
# (a 4.7 MB gzip bomb otherwise writes 1 GiB). Other names (tests' small files) are capped by
# the size their own IDX header declares, and by IDX_CEILING.
MNIST_SIZES: dict[str, int] = {
    "train-images-idx3-ubyte": 47_040_016, "train-labels-idx1-ubyte": 60_008,
    "t10k-images-idx3-ubyte": 7_840_016, "t10k-labels-idx1-ubyte": 10_008,
}
IDX_CEILING = 64 * 2**20
_IDX_ITEM = {0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}   # IDX type code -> bytes per value


def prepare_mnist(root: str | Path | None = None, *, source: str | Path | None = None,
                  download: bool = True, checksums: dict[str, str] | None = None) -> Path:
    """Make sure ``<root>/MNIST/raw`` holds the four checked IDX files; return ``root``.

    ``source`` (default ``$LENET_MNIST_DIR``) is an offline folder to copy from; without one,
    torchvision downloads. ``checksums`` replaces :data:`MNIST_MD5` (tests use small fake files).
    """
    root = Path(root) if root is not None else data_root()
    checksums = MNIST_MD5 if checksums is None else checksums
    raw = root / "MNIST" / "raw"
    _check_kinds(raw, checksums)
    if _already_verified(raw, checksums):
        return root
    if source is None:
        source = os.environ.get(ENV_VAR, "").strip() or None
    if source is not None:
        _copy_offline(Path(source).expanduser(), raw, checksums)
    elif all((raw / name).is_file() for name in checksums):
        pass  # present from an earlier download; verified below
    elif download:
        _download(root)
    else:
        raise MNISTUnavailable(
            f"MNIST is not in {raw} and downloading is off. Set {ENV_VAR} to a folder holding the four "
            "IDX files (gzipped or not), or allow the download."
        )
    _verify(raw, checksums, origin=str(source) if source else "the download")
    return root


def _check_kinds(raw: Path, checksums: dict[str, str]) -> None:
    """One line for a file where a folder belongs (the data root, MNIST, raw) or the reverse."""
    for folder in (raw.parent.parent, raw.parent, raw):
        if folder.exists() and not folder.is_dir():
            raise MNISTUnavailable(f"{folder} is a file, but MNIST needs a folder there; move the file away "
                                   "or set LENET_DATA_DIR to a folder")
    for name in (*checksums, _STAMP):
        if (raw / name).is_dir():
            raise MNISTUnavailable(f"{raw / name} is a folder where a file belongs; remove it and run again")


def _copy_offline(source: Path, raw: Path, checksums: dict[str, str]) -> None:
    if not source.is_dir():
        raise MNISTUnavailable(
            f"{ENV_VAR}={source} is not a folder. Point it at the folder holding the four MNIST IDX files "
            f"({', '.join(checksums)}; gzipped or not), or unset it to download."
        )
    raw.mkdir(parents=True, exist_ok=True)
    missing = []
    for name in checksums:
        candidates = [source / name, source / f"{name}.gz", source / "MNIST" / "raw" / name,
                      source / "MNIST" / "raw" / f"{name}.gz"]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            missing.append(name)
            continue
        target = raw / name
        if target.is_file() and _md5(target) == checksums[name]:
            continue
        _copy_one(found, target, checksums[name])
    if missing:
        raise MNISTUnavailable(
            f"{ENV_VAR}={source} lacks {', '.join(missing)} (or the same with .gz). "
            "It must hold the four MNIST IDX files."
        )


def _copy_one(found: Path, target: Path, expected: str) -> None:
    """Copy or decompress ``found`` to ``target``: through a temporary name in the same folder,
    at most the size its IDX header declares (and the real file's size), checked against its
    MD5 before it takes the real name. The temporary file is removed on any failure, Ctrl-C included."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    opener = gzip.open if found.suffix == ".gz" else open
    try:
        with opener(found, "rb") as src, open(tmp, "wb") as dst:
            head = src.read(4)
            if len(head) < 4 or head[:2] != b"\0\0" or head[2] not in _IDX_ITEM or not 1 <= head[3] <= 4:
                raise MNISTUnavailable(f"{found} is not an IDX file (its header is wrong); replace it with a "
                                       "good copy of the MNIST file")
            dims = src.read(4 * head[3])
            count = math.prod(int.from_bytes(dims[i:i + 4], "big") for i in range(0, len(dims), 4))
            size = 4 + len(dims) + count * _IDX_ITEM[head[2]]
            cap = MNIST_SIZES.get(target.name, IDX_CEILING)
            if len(dims) < 4 * head[3] or size > cap:
                raise MNISTUnavailable(f"{found} declares {size:,} bytes, more than {target.name} can be "
                                       f"({cap:,}); it is not MNIST (a decompression bomb?). Replace it")
            digest = hashlib.md5(head + dims)
            dst.write(head + dims)
            written = len(head) + len(dims)
            while written <= size:                      # one block past the size reveals extra data
                block = src.read(min(1 << 20, size - written + 1))
                if not block:
                    break
                written += len(block)
                if written > size:
                    raise MNISTUnavailable(f"{found} holds more data than its IDX header declares ({size:,} "
                                           "bytes); it is not MNIST. Replace it with a good copy")
                digest.update(block)
                dst.write(block)
        if digest.hexdigest() != expected:
            raise MNISTUnavailable(f"{found} is corrupt: MD5 {digest.hexdigest()}, expected {expected}. Replace "
                                   "it with a good copy, then run again.")
        os.replace(tmp, target)  # atomic: a half-written or wrong file never carries the real name
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise MNISTUnavailable(f"{found} could not be read ({err}); it is truncated or corrupt. "
                               "Replace it with a good copy.") from None
    finally:
        if tmp.exists():
            tmp.unlink()


def _download(root: Path) -> None:
    from torchvision.datasets import MNIST  # imported here: torchvision is slow to import

    try:
        for train in (True, False):
            MNIST(str(root), train=train, download=True)
    except Exception as err:  # network errors come in many types (URLError, HTTPError, OSError)
        raise MNISTUnavailable(
            f"Could not download MNIST into {root / 'MNIST' / 'raw'} ({type(err).__name__}: {err}). "
            f"If this machine is offline, set {ENV_VAR} to a folder holding the four IDX files "
            "(gzipped or not) and run again."
        ) from None


def _verify(raw: Path, checksums: dict[str, str], origin: str) -> None:
    stamp = {}
    for name, expected in checksums.items():
        path = raw / name
        if not path.is_file():
            raise MNISTUnavailable(f"{path} is missing after copying from {origin}.")
        actual = _md5(path)
        if actual != expected:
            raise MNISTUnavailable(
                f"{path} is corrupt: MD5 {actual}, expected {expected}. Delete {raw} and replace the file "
                f"in {origin} with a good copy, then run again."
            )
        stamp[name] = _identity(path, expected)
    tmp = raw / f".{_STAMP}.{os.getpid()}.part"
    try:  # atomic: a reader sees the old record or the new one, never half of one
        tmp.write_text(json.dumps(stamp))
        os.replace(tmp, raw / _STAMP)
    except OSError as err:
        raise MNISTUnavailable(f"{raw / _STAMP} could not be written ({err.strerror or err}); make {raw} "
                               "writable") from None
    finally:
        if tmp.exists():
            tmp.unlink()


def _identity(path: Path, md5: str) -> list:
    """What the record trusts a file by: its MD5 when last hashed, and the file's inode, size,
    mtime and ctime then. Rewriting a byte and restoring the mtime still changes the ctime
    (only the kernel sets it), so the file is hashed again."""
    st = path.stat()
    return [md5, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _already_verified(raw: Path, checksums: dict[str, str], *, full: bool = False) -> bool:
    """True when every file is unchanged since it was last hashed and its MD5 was the expected one.
    ``full`` re-hashes every file instead of trusting the record (``lenet doctor --full``)."""
    try:
        if full:
            return all(_md5(raw / name) == expected for name, expected in checksums.items())
        stamp = json.loads((raw / _STAMP).read_text())
        return isinstance(stamp, dict) and all(
            stamp.get(name) == _identity(raw / name, expected) for name, expected in checksums.items())
    except (OSError, ValueError):
        return False


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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

    def __getitem__(self, index) -> torch.Tensor:
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

    def subset(self, count_or_indices: int | torch.Tensor) -> "MNISTSplit":
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


def denormalize(images: torch.Tensor, mean: float = MNIST_MEAN, std: float = MNIST_STD) -> torch.Tensor:
    """Back from network input to [0, 1] intensities (for showing what the network sees)."""
    return (images * std + mean).clamp(0.0, 1.0)


def load_mnist(split: str = "train", root: str | Path | None = None, *, download: bool = True) -> MNISTSplit:
    """The ``"train"`` (60,000) or ``"test"`` (10,000) split, prepared on first use, memory-mapped."""
    if split not in SPLITS:
        raise ValueError(f"split={split!r} is not one of 'train', 'test'")
    root = Path(root) if root is not None else data_root()
    return _load_cached(split, str(root.resolve()), download)


@lru_cache(maxsize=4)
def _load_cached(split: str, root: str, download: bool) -> MNISTSplit:
    prepare_mnist(root, download=download)
    raw = Path(root) / "MNIST" / "raw"
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
    """

    def __init__(self, images: torch.Tensor | NormalizedImages, labels: torch.Tensor, batch_size: int = 128, *,
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
