"""Shared fixtures. Tests never touch the network; those that need real MNIST use the ``mnist``
marker and FAIL (never skip) when it is missing: CI sets LENET_MNIST_DIR."""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
from pathlib import Path

import matplotlib
import pytest
import torch

matplotlib.use("Agg")  # no display in tests

REPO = Path(__file__).resolve().parents[1]


def write_idx_images(path: Path, pixels: torch.Tensor) -> None:
    """IDX3 file (big-endian header: magic 0x803, count, rows, cols; then uint8 pixels)."""
    n, h, w = pixels.shape
    path.write_bytes(struct.pack(">IIII", 0x803, n, h, w) + pixels.to(torch.uint8).numpy().tobytes())


def write_idx_labels(path: Path, labels: torch.Tensor) -> None:
    path.write_bytes(struct.pack(">II", 0x801, len(labels)) + labels.to(torch.uint8).numpy().tobytes())


@pytest.fixture
def fake_mnist(tmp_path: Path) -> tuple[Path, dict[str, str], dict[str, torch.Tensor]]:
    """A folder with four small, valid IDX files (train gzipped, test plain), their MD5s, and contents."""
    source = tmp_path / "source"
    source.mkdir()
    g = torch.Generator().manual_seed(0)
    tensors = {
        "train-images-idx3-ubyte": torch.randint(0, 256, (64, 28, 28), generator=g, dtype=torch.uint8),
        "train-labels-idx1-ubyte": torch.randint(0, 10, (64,), generator=g, dtype=torch.uint8),
        "t10k-images-idx3-ubyte": torch.randint(0, 256, (16, 28, 28), generator=g, dtype=torch.uint8),
        "t10k-labels-idx1-ubyte": torch.randint(0, 10, (16,), generator=g, dtype=torch.uint8),
    }
    checksums = {}
    for name, t in tensors.items():
        plain = tmp_path / name
        (write_idx_images if "images" in name else write_idx_labels)(plain, t)
        checksums[name] = hashlib.md5(plain.read_bytes()).hexdigest()
        if name.startswith("train"):
            with gzip.open(source / f"{name}.gz", "wb") as f:
                f.write(plain.read_bytes())
        else:
            (source / name).write_bytes(plain.read_bytes())
        plain.unlink()
    return source, checksums, tensors


@pytest.fixture(scope="session")
def mnist_ready() -> None:
    """Real MNIST in the data root; a clear failure (not a skip) when it cannot be had."""
    from lenet_utils.data import MNISTUnavailable, prepare_mnist

    try:
        prepare_mnist(download=not os.environ.get("LENET_MNIST_DIR"))
    except MNISTUnavailable as err:
        pytest.fail(f"real MNIST is needed for this test and is missing: {err}", pytrace=False)


@pytest.fixture(scope="session")
def mnist_test(mnist_ready):
    from lenet_utils import load_mnist

    return load_mnist("test")


@pytest.fixture(scope="session")
def mnist_train(mnist_ready):
    from lenet_utils import load_mnist

    return load_mnist("train")
