"""Getting MNIST's four IDX files onto this machine, checked (notebook 01's first cell).

Where the files come from:

* ``$LENET_MNIST_DIR`` (or ``source=``): a folder holding the four IDX files, gzipped or not.
  They are copied or decompressed into ``<data root>/MNIST/raw`` and checked against the
  published MD5 checksums of the decompressed files.
* otherwise torchvision downloads them, as users expect.

Nothing is trusted blindly: a copy is capped at the size its IDX header declares (a gzip bomb
writes nothing), takes its real name only once its MD5 matches, and a record of what was hashed
(``.verified.json``) spares later kernels the hashing until a file changes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import zlib
from pathlib import Path

from .paths import data_root

FILE_SIZES = {"train": 60_000, "test": 10_000}    # images per IDX file (data.SPLIT_SIZES: the splits)
SPLITS = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
SIDE = 28                                         # every digit is 28 x 28 pixels

# Mean and standard deviation of the 60,000 training images' pixels scaled to [0, 1]. Stated here,
# with the files, so that the NumPy-only by_hand.py shares them without importing PyTorch. Notebook
# 01 computes them from the data; tests/test_data.py checks these figures against it.
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081

# MD5 of each decompressed IDX file, as published with the dataset.
MNIST_MD5: dict[str, str] = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
# Decompressed size of each real IDX file (a header of 4 bytes and 4 per dimension, then one byte
# per value): no copy or decompression may write more than this (a 4.7 MB gzip bomb otherwise
# writes 1 GiB). Other names (tests' small files) are capped by the size their own IDX header
# declares, and by IDX_CEILING.
MNIST_SIZES: dict[str, int] = {
    size_name: size
    for split, (images, labels) in SPLITS.items()
    for size_name, size in ((images, 16 + FILE_SIZES[split] * SIDE * SIDE), (labels, 8 + FILE_SIZES[split]))
}
IDX_CEILING = 64 * 2**20
_IDX_ITEM = {0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}   # IDX type code -> bytes per value

ENV_VAR = "LENET_MNIST_DIR"
_STAMP = ".verified.json"


class MNISTUnavailable(RuntimeError):
    """MNIST is missing or corrupt; the message says what to do."""


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
    if already_verified(raw, checksums):
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


def _hard_link(found: Path, tmp: Path) -> bool:
    """Make ``tmp`` a second name of ``found``; False where the file system can't (another device)."""
    try:
        os.link(found, tmp)
        return True
    except OSError:
        return False


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
        target = raw / name
        if target.is_file() and _md5(target) == checksums[name]:
            continue  # already here and right (a link's ctime moves when another name is added)
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            missing.append(name)
            continue
        _copy_one(found, target, checksums[name])
    if missing:
        raise MNISTUnavailable(
            f"{ENV_VAR}={source} lacks {', '.join(missing)} (or the same with .gz). "
            "It must hold the four MNIST IDX files."
        )


def _copy_one(found: Path, target: Path, expected: str) -> None:
    """Link, copy or decompress ``found`` to ``target``: through a temporary name in the same folder,
    at most the size its IDX header declares (and the real file's size), checked against its
    MD5 before it takes the real name. The temporary file is removed on any failure, Ctrl-C included.

    An uncompressed source on the same file system is hard-linked, not copied, and still checked:
    a class whose ``LENET_MNIST_DIR`` points at one prepared folder then memory-maps one file, so
    the page cache holds MNIST once for everybody (a copy per student is 55 MB of RAM each)."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    opener = gzip.open if found.suffix == ".gz" else open
    linked = found.suffix != ".gz" and _hard_link(found, tmp)
    try:
        with opener(found, "rb") as src, open(os.devnull if linked else tmp, "wb") as dst:
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


def already_verified(raw: Path, checksums: dict[str, str], *, full: bool = False) -> bool:
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
