"""Checkpoints: weights plus everything needed to trust and reproduce them.

A checkpoint is one ``torch.save`` file holding plain data only: the weights, the model config,
the training recipe and seed, the metrics, the normalisation and the library versions. Loading
uses ``torch.load(..., weights_only=True)``: a file that would run code when unpickled is refused.
Saving and loading are introduced in notebook 03; notebooks 04 and 05 load what it saved.

Loading builds the plain :class:`~lenet_utils.LeNet5` for the reference config, the class a
student writes in notebook 02, and a :class:`~lenet_utils.lab_net.LabNet` for any other config.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import os
import platform
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .config import ConfigError, LeNetConfig, is_int
from .data import MNIST_MEAN, MNIST_STD
from .lab_net import LabNet
from .messages import one_line
from .model import LeNet5
from .paths import PACKAGE_DIR

FORMAT = "lenet-utils-checkpoint"
FORMAT_VERSION = 1
PRETRAINED_PATH = PACKAGE_DIR / "pretrained" / "lenet5_mnist.pt"


class CheckpointError(ValueError):
    """A file that is not a usable checkpoint; the message names the file and the reason."""


@dataclass
class Checkpoint:
    model: LeNet5 | LabNet
    config: LeNetConfig
    recipe: dict[str, Any] | None = None       # TrainConfig.to_dict() of the run that made it
    seed: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)   # e.g. {"test_acc": 0.9925}
    history: list[dict[str, float]] = field(default_factory=list)
    normalization: dict[str, float] = field(default_factory=lambda: {"mean": MNIST_MEAN, "std": MNIST_STD})
    versions: dict[str, str] = field(default_factory=dict)
    created: str = ""
    path: Path | None = None


def save_checkpoint(path: str | Path, model: LeNet5 | LabNet, *, recipe: Any = None, seed: int | None = None,
                    metrics: dict[str, float] | None = None, history: Any = None) -> Path:
    """Write ``model`` and its provenance to ``path`` (atomically: never a half-written file)."""
    if not isinstance(model, (LeNet5, LabNet)):
        raise TypeError(f"save_checkpoint saves a LeNet5 or a LabNet, not {type(model).__name__}")
    config = model.config if isinstance(model, LabNet) else LeNetConfig()
    if dataclasses.is_dataclass(recipe):
        recipe = recipe.to_dict() if hasattr(recipe, "to_dict") else dataclasses.asdict(recipe)
    if recipe is not None and seed is None:
        seed = recipe.get("seed")
    if history is not None and hasattr(history, "to_dicts"):
        history = history.to_dicts()
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": config.to_dict(),
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


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu", *, digits: bool = True) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`. Never runs code from the file.

    Everything is checked before a layer is built: the metadata's types, the config's fields and
    its cost (``config.MAX_PARAMETERS``, ``config.MAX_ACTIVATIONS``), that the weights fit the config
    and are finite, and (``digits=True``) that the model reads 1x28x28 images and answers 10
    classes. A refusal is :class:`CheckpointError`: one line, ``"<file>: <field>: <why and what to do>"``."""
    path = Path(path).expanduser()
    if "\0" in str(path):
        raise CheckpointError(f"{path!r}: a file name cannot contain a NUL character")
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder; give the checkpoint file inside it (a .pt file)")
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about pickle protocols of foreign files
            payload = torch.load(path, map_location=device, weights_only=True)
    except OSError as err:  # unreadable (permissions, I/O), as opposed to readable but not a checkpoint
        raise CheckpointError(f"{path}: cannot read ({err.strerror or _short(str(err))})") from None
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
    config, state = _validate(path, payload, digits)
    try:
        model = build(config)              # affordable: _validate checked the config's cost first
        model.load_state_dict(state)
    except (ConfigError, KeyError, RuntimeError, TypeError, ValueError) as err:
        raise CheckpointError(f"{path}: damaged checkpoint, its weights and config do not fit "
                              f"({one_line(err)})") from None
    model.to(device).eval()
    return Checkpoint(
        model=model, config=config, recipe=payload.get("recipe"), seed=payload.get("seed"),
        metrics=dict(payload.get("metrics") or {}), history=list(payload.get("history") or []),
        normalization=dict(payload.get("normalization") or {}), versions=dict(payload.get("versions") or {}),
        created=str(payload.get("created") or ""), path=path,
    )


# --- validation: everything is checked from the loaded plain data, before a layer is built ----
def _validate(path: Path, payload: dict, digits: bool) -> tuple[LeNetConfig, dict[str, torch.Tensor]]:
    """The config and the weights, or one-line :class:`CheckpointError` naming the file and field."""
    def refuse(field_name: str, why: str) -> CheckpointError:
        return CheckpointError(f"{path}: {field_name}: {why}")

    version = payload.get("format_version")
    if not is_int(version) or version < 1:
        raise refuse("format_version", f"expected a whole number from 1 to {FORMAT_VERSION}, got {_short(version)}; "
                                       "the file was not written by lenet_utils (save it again with save_checkpoint)")
    if version > FORMAT_VERSION:
        raise refuse("format_version", f"format {version} is newer than this lenet_utils understands "
                                       f"({FORMAT_VERSION}); upgrade lenet_utils")
    for name, kinds, what in _METADATA:
        value = payload.get(name)
        if value is not None and not isinstance(value, kinds):
            raise refuse(name, f"expected {what}, got {_short(value)}; the file was edited or damaged "
                               "(save it again with save_checkpoint)")
    if not all(isinstance(k, str) and _is_number(v) for k, v in (payload.get("metrics") or {}).items()):
        raise refuse("metrics", "expected names mapped to numbers, e.g. {'test_acc': 0.99}")
    if not all(isinstance(row, dict) for row in payload.get("history") or []):
        raise refuse("history", "expected a list of per-epoch records (dicts)")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in (payload.get("versions") or {}).items()):
        raise refuse("versions", "expected library names mapped to version strings")
    if payload.get("seed") is not None and not is_int(payload["seed"]):
        raise refuse("seed", f"expected a whole number, got {_short(payload['seed'])}")
    norm = payload.get("normalization")
    if norm is not None:
        mean, std = norm.get("mean"), norm.get("std")
        if not (_is_number(mean) and _is_number(std) and math.isfinite(mean) and math.isfinite(std) and std > 0):
            raise refuse("normalization", f"expected {{'mean': number, 'std': number > 0}}, got {_short(norm)}")
        if abs(mean - MNIST_MEAN) > 1e-4 or abs(std - MNIST_STD) > 1e-4:
            raise refuse("normalization", f"trained on pixels normalised with mean {mean:g} and std {std:g}, but "
                                          f"lenet_utils feeds mean {MNIST_MEAN} and std {MNIST_STD}; its answers "
                                          "would be wrong. Retrain it with lenet_utils")
    raw = payload.get("config")
    if not isinstance(raw, dict):
        raise refuse("config", f"expected the model's settings (a dict), got {_short(raw)}")
    try:
        config = LeNetConfig.from_dict(raw)   # checks every field, and the cost in parameters and memory
    except ConfigError as err:
        raise refuse(f"config.{err.field}" if err.field != "config" else "config", err.reason) from None
    except TypeError as err:
        raise refuse("config", one_line(err)) from None
    if digits and (config.in_channels, config.image_size, config.num_classes) != (1, 28, 10):
        raise refuse("config", f"a model for {config.in_channels}x{config.image_size}x{config.image_size} images "
                               f"and {config.num_classes} classes, not for MNIST digits (1x28x28 input, 10 "
                               "classes); it cannot answer which digit an image shows")
    state = payload.get("state_dict")
    if not isinstance(state, dict):
        raise refuse("state_dict", f"expected the weights (a dict of tensors), got {_short(state)}")
    state = migrate_keys(state, config)
    with torch.device("meta"):                      # shapes without allocating a single weight
        expected = {k: tuple(v.shape) for k, v in build(config).state_dict().items()}
    if set(state) != set(expected):
        extra, missing = sorted(set(state) - set(expected)), sorted(set(expected) - set(state))
        raise refuse("state_dict", f"damaged checkpoint, its weights and config do not fit (missing "
                                   f"{missing[:3]}, unexpected {extra[:3]}); train or download it again")
    for name, tensor in state.items():
        if not isinstance(tensor, torch.Tensor) or not tensor.is_floating_point():
            raise refuse(f"state_dict.{name}", f"expected a floating-point tensor, got {_short(tensor)}")
        if tuple(tensor.shape) != expected[name]:
            raise refuse(f"state_dict.{name}", f"damaged checkpoint, its weights and config do not fit (shape "
                                               f"{tuple(tensor.shape)}, the config needs {expected[name]})")
        if not bool(torch.isfinite(tensor).all()):
            raise refuse(f"state_dict.{name}", "holds NaN or infinite weights (training diverged?); its answers "
                                               "would be meaningless. Retrain with a lower learning rate")
    return config, state


_METADATA = (  # name, accepted types, as said in messages
    ("recipe", dict, "the training settings (a dict)"),
    ("metrics", dict, "names mapped to numbers (a dict)"),
    ("history", list, "a list of per-epoch records"),
    ("normalization", dict, "{'mean': number, 'std': number}"),
    ("versions", dict, "library names mapped to versions (a dict)"),
    ("created", str, "a date as text"),
)


def build(config: LeNetConfig) -> LeNet5 | LabNet:
    """The network a checkpoint's config describes: the plain :class:`LeNet5` for the reference."""
    return LeNet5() if config == LeNetConfig() else LabNet(config)


def migrate_keys(state: dict, config: LeNetConfig) -> dict:
    """Weights saved before the network was written out layer by layer, under ``features.`` and
    ``classifier.`` with the last Linear ``out``, renamed to today's ``conv1.weight`` ... ``fc3.bias``."""
    if not any(isinstance(k, str) and k.startswith(("features.", "classifier.")) for k in state):
        return state
    last = f"fc{len(config.fc_widths) + 1}."

    def rename(key: Any) -> Any:
        if not isinstance(key, str):
            return key
        key = key.removeprefix("features.").removeprefix("classifier.")
        return last + key.removeprefix("out.") if key.startswith("out.") else key
    return {rename(k): v for k, v in state.items()}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _short(value: Any) -> str:
    """A value as messages show it: its repr cut to one short line, or the type of a tensor."""
    if isinstance(value, torch.Tensor):
        return f"a {str(value.dtype).replace('torch.', '')} tensor of shape {tuple(value.shape)}"
    text = repr(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


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
    # torchvision's version from its metadata: importing it costs a kernel ~390 MB of private memory
    # (its compiled ops load PyTorch's CUDA libraries), and the course needs it only to download MNIST.
    from importlib.metadata import PackageNotFoundError, version

    from . import __version__

    try:
        vision = version("torchvision")
    except PackageNotFoundError:
        vision = "not installed"
    return {"lenet_utils": __version__, "torch": str(torch.__version__), "torchvision": vision,
            "python": platform.python_version()}

