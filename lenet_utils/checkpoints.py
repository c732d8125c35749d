"""Checkpoints: weights plus everything needed to trust and reproduce them.

A checkpoint is one ``torch.save`` file holding plain data only: the weights, the model config,
the training recipe and seed, the metrics, the normalisation and the library versions. Loading
uses ``torch.load(..., weights_only=True)``: a file that would run code when unpickled is refused.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import os
import platform
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .data import MNIST_MEAN, MNIST_STD
from .model import ConfigError, LeNet5, LeNetConfig
from .paths import PACKAGE_DIR

FORMAT = "lenet-utils-checkpoint"
FORMAT_VERSION = 1
PRETRAINED_PATH = PACKAGE_DIR / "pretrained" / "lenet5_mnist.pt"


class CheckpointError(ValueError):
    """A file that is not a usable checkpoint; the message names the file and the reason."""


@dataclass
class Checkpoint:
    model: LeNet5
    config: LeNetConfig
    recipe: dict[str, Any] | None = None       # TrainConfig.to_dict() of the run that made it
    seed: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)   # e.g. {"test_acc": 0.9925}
    history: list[dict[str, float]] = field(default_factory=list)
    normalization: dict[str, float] = field(default_factory=lambda: {"mean": MNIST_MEAN, "std": MNIST_STD})
    versions: dict[str, str] = field(default_factory=dict)
    created: str = ""
    path: Path | None = None


def save_checkpoint(path: str | Path, model: LeNet5, *, recipe: Any = None, seed: int | None = None,
                    metrics: dict[str, float] | None = None, history: Any = None) -> Path:
    """Write ``model`` and its provenance to ``path`` (atomically: never a half-written file)."""
    if not isinstance(model, LeNet5):
        raise TypeError(f"save_checkpoint saves a LeNet5, not {type(model).__name__}")
    if dataclasses.is_dataclass(recipe):
        recipe = recipe.to_dict() if hasattr(recipe, "to_dict") else dataclasses.asdict(recipe)
    if recipe is not None and seed is None:
        seed = recipe.get("seed")
    if history is not None and hasattr(history, "to_dicts"):
        history = history.to_dicts()
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": model.config.to_dict(),
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "recipe": recipe,
        "seed": seed,
        "metrics": {k: float(v) for k, v in (metrics or {}).items()},
        "history": list(history or []),
        "normalization": {"mean": MNIST_MEAN, "std": MNIST_STD},
        "versions": library_versions(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")  # same folder: os.replace is atomic
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`. Never runs code from the file."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about pickle protocols of foreign files
            payload = torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # torch raises UnpicklingError, RuntimeError, EOFError, ... by cause
        text = str(err)
        if "Weights only load failed" in text and "global" in text.lower():
            raise CheckpointError(
                f"{path}: refused, the file holds Python objects that would run code when loaded; "
                "a checkpoint may only hold tensors, numbers and text. Use one saved by lenet_utils."
            ) from None
        why = "empty or cut short" if isinstance(err, EOFError) or path.stat().st_size == 0 else (
            "not a PyTorch file" if "Weights only load failed" in text else "truncated or corrupt")
        raise CheckpointError(f"{path}: not a readable checkpoint ({why}). Train or download it again.") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        hint = ""
        if isinstance(payload, dict) and payload and all(isinstance(v, torch.Tensor) for v in payload.values()):
            hint = " It looks like a bare state_dict: load it with model.load_state_dict(torch.load(path)) instead."
        raise CheckpointError(f"{path}: not a lenet_utils checkpoint (no '{FORMAT}' header).{hint}")
    version = payload.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format {version!r} is newer than this lenet_utils "
                              f"understands ({FORMAT_VERSION}); upgrade lenet_utils.")
    try:
        config = LeNetConfig.from_dict(payload["config"])
        model = LeNet5(config)
        model.load_state_dict(payload["state_dict"])
    except (ConfigError, KeyError, RuntimeError, TypeError) as err:
        raise CheckpointError(f"{path}: damaged checkpoint, its weights and config do not fit "
                              f"({str(err).splitlines()[0][:160]})") from None
    model.to(device).eval()
    return Checkpoint(
        model=model, config=config, recipe=payload.get("recipe"), seed=payload.get("seed"),
        metrics=dict(payload.get("metrics") or {}), history=list(payload.get("history") or []),
        normalization=dict(payload.get("normalization") or {}), versions=dict(payload.get("versions") or {}),
        created=str(payload.get("created", "")), path=path,
    )


def load_pretrained(device: str | torch.device = "cpu") -> LeNet5:
    """The reference LeNet-5 trained by the project (shipped inside the package), in eval mode."""
    return pretrained_checkpoint(device).model


def pretrained_checkpoint(device: str | torch.device = "cpu") -> Checkpoint:
    """The shipped checkpoint with its provenance: recipe, seed, metrics, versions."""
    if not PRETRAINED_PATH.is_file():
        raise CheckpointError(f"{PRETRAINED_PATH}: the shipped checkpoint is missing from this install; "
                              "reinstall lenet-utils or run `python -m lenet_utils train`.")
    return load_checkpoint(PRETRAINED_PATH, device)


def library_versions() -> dict[str, str]:
    import torchvision

    from . import __version__

    return {"lenet_utils": __version__, "torch": str(torch.__version__), "torchvision": str(torchvision.__version__),
            "python": platform.python_version()}

