"""Where the course keeps its files.

Library code never writes into the current folder unasked: data and checkpoints go under one
data root, chosen in this order:

1. ``$LENET_DATA_DIR`` when set;
2. ``<repo>/data`` when the package runs from a clone of the course (editable install);
3. ``~/.cache/lenet-utils`` otherwise (a plain ``pip install``).
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def repo_root() -> Path | None:
    """The course checkout this package runs from, or ``None`` for a plain install."""
    root = PACKAGE_DIR.parent
    if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir():
        return root
    return None


def data_root() -> Path:
    """The folder that holds MNIST (``MNIST/raw``), checkpoints and saved runs."""
    env = os.environ.get("LENET_DATA_DIR", "").strip()
    if env:
        return Path(env).expanduser()
    root = repo_root()
    if root is not None:
        return root / "data"
    return Path.home() / ".cache" / "lenet-utils"


def checkpoints_dir() -> Path:
    """Where trained checkpoints go by default (``<data root>/checkpoints``)."""
    return data_root() / "checkpoints"


def examples_dir() -> Path:
    """The project's own hand-drawn example digits (``data/examples`` in the repository)."""
    root = repo_root()
    if root is not None:
        return root / "data" / "examples"
    return data_root() / "examples"
