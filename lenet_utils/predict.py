"""Predicting the digit in an image file.

Foundation version: decode, greyscale, invert dark-on-light, resize to 28x28. The real-world
pipeline (cropping, centring by mass, bad-input limits) replaces ``to_input`` with the predict-panel work.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from .data import normalize


class ImageError(ValueError):
    """An input that is not a usable image; the message names the file and the reason."""


@dataclass
class Prediction:
    file: str
    label: int | None = None
    confidence: float | None = None
    probabilities: list[float] = field(default_factory=list)
    image: torch.Tensor | None = None      # (1, 28, 28) the network's input
    error: str | None = None

    def to_dict(self) -> dict:
        if self.error is not None:
            return {"file": self.file, "error": self.error}
        return {"file": self.file, "label": self.label, "confidence": self.confidence,
                "probabilities": self.probabilities}


def to_input(data: bytes, name: str = "image") -> torch.Tensor:
    """Image bytes -> ``(1, 28, 28)`` normalised network input (naive resize)."""
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise ImageError(f"{name}: not a readable image ({str(err).splitlines()[0][:80]})") from None
    grey = img.convert("L").resize((28, 28), Image.LANCZOS)
    pixels = torch.frombuffer(bytearray(grey.tobytes()), dtype=torch.uint8).reshape(28, 28)
    if pixels.float().mean() > 127:  # dark ink on light paper: MNIST is light ink on black
        pixels = 255 - pixels
    return normalize(pixels.unsqueeze(0))[0]


def predict_file(path: str | Path, model: nn.Module) -> Prediction:
    """Read ``path`` and predict; a bad file gives a :class:`Prediction` with ``error`` set."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        return Prediction(name, error=f"{name}: cannot read ({err.strerror or err})")
    try:
        x = to_input(data, name)
    except ImageError as err:
        return Prediction(name, error=str(err))
    with torch.no_grad():
        probs = torch.softmax(model(x.unsqueeze(0).to(next(model.parameters()).device)), 1)[0].cpu()
    conf, label = probs.max(0)
    return Prediction(name, int(label), float(conf), [round(float(p), 6) for p in probs], x)
