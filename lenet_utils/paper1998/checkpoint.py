"""The shipped 1998 network: saving and loading LeNet5Paper's weights with their provenance.

The same rules as the course's checkpoints (:mod:`lenet_utils.checkpoints`): plain data only,
loaded with ``weights_only=True``, written atomically."""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Any

import torch

from ..checkpoints import CheckpointError, library_versions
from ..paths import PACKAGE_DIR
from .model import LeNet5Paper

__all__ = ["PAPER_CHECKPOINT", "load_paper_checkpoint", "load_paper_pretrained", "save_paper_checkpoint"]

FORMAT = "lenet-utils-paper1998"
PAPER_CHECKPOINT = PACKAGE_DIR / "pretrained" / "lenet5_paper1998.pt"


def save_paper_checkpoint(path: str | Path, model: LeNet5Paper, *, recipe: dict[str, Any] | None = None,
                          history: list[dict[str, float]] | None = None,
                          metrics: dict[str, float] | None = None) -> Path:
    path = Path(path)
    payload = {
        "format": FORMAT,
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "recipe": recipe,
        "history": list(history or []),
        "metrics": {k: float(v) for k, v in (metrics or {}).items()},
        "versions": library_versions(),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


def load_paper_checkpoint(path: str | Path) -> tuple[LeNet5Paper, dict[str, Any]]:
    """``(model, payload)``; a :class:`~lenet_utils.checkpoints.CheckpointError` naming the file
    and the reason for anything that is not a 1998-network checkpoint."""
    path = Path(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is "not a checkpoint"
        raise CheckpointError(f"{path} is not a checkpoint torch can load safely ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a LeNet5Paper checkpoint (expected format {FORMAT!r})")
    model = LeNet5Paper()
    try:
        model.load_state_dict(payload["state_dict"])
    except (RuntimeError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: its weights do not fit LeNet5Paper ({str(exc).splitlines()[0]})") from None
    model.eval()
    return model, payload


def load_paper_pretrained() -> LeNet5Paper:
    """The shipped 1998 network (``lenet_utils/pretrained/lenet5_paper1998.pt``), ready for inference."""
    return load_paper_checkpoint(PAPER_CHECKPOINT)[0]
