"""The digit in an image: :mod:`preprocess` makes it look like MNIST, the network answers.

    >>> p = predict_image("my_seven.jpg")        # bytes, a path, a PIL image or a pixel array
    >>> p.label, p.confidence                   # (7, 0.998)
    >>> p.error                                 # None, or one line: "my_seven.jpg: no digit found (...)"
    >>> p.not_a_digit                           # False; True for a letter, a shape, a scribble, "42"

How ``not_a_digit`` is made: the network always names one of ten digits, so beside it sits a
small detector (:mod:`.not_a_digit`), a logistic regression fitted by ``scripts/fit_not_a_digit.py``
on MNIST digits against generated non-digits (``lenet_utils/synthetic/non_digits.py``). It reads the network's
scores (their size, lead and distance from real digits' scores), the 400 features conv2 hands to
fc1, and the 28x28 input's ink (amount, thickness, width, separate pieces). Its threshold flags 1%
of correctly read held-out digits; ``benchmarks/not_a_digit.py`` measures it. The label and the
confidence are still given, and unchanged: the panel shows the answer under a warning. For a model
other than the shipped one only the picture's features are used (weaker).

Bad input never raises: the :class:`Prediction` carries an ``error`` instead of a label, so a
panel shows it as a message and the CLI prints it and exits with status 2.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..checkpoints import CheckpointError
from ..data import MNIST_MEAN, MNIST_STD
from ..fast import Frozen, freeze, seal
from ..images.decoding import LIMITS, SUFFIXES, ImageError, ImageSource, Limits, source_name
from ..images.preprocess import CONFIG, NoDigitFound, PreprocessConfig, naive_input, preprocess
from ..messages import one_line
from .not_a_digit import DetectorError, fitted_for, shipped_detector

__all__ = ["DetectorError", "ImageError", "ModelError", "NoDigitFound", "Prediction", "blank_scores", "default_model",
           "example_images", "example_label", "predict_file", "predict_image", "predict_naive"]


@dataclass
class Prediction:
    """What the network answered for one image, or why it could not."""

    file: str                                         # the name messages and JSON use
    label: int | None = None                          # 0-9, None when refused
    confidence: float | None = None                   # the label's probability
    probabilities: list[float] = field(default_factory=list)   # all ten, summing to 1
    image: torch.Tensor | None = None                 # (1, 28, 28) the network's input, normalised
    error: str | None = None                          # one line naming the file and the reason
    stages: Mapping[str, np.ndarray] = field(default_factory=dict, repr=False)   # preprocess.STAGES -> image
    inverted: bool | None = None                      # the input was dark ink on light paper
    not_a_digit: bool = False                         # the input does not look like one digit; label still given

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        """The CLI's JSON: ``{"file", "label", "confidence", "not_a_digit", "probabilities"}``, or
        ``{"file", "error"}``."""
        if self.error is not None:
            return {"file": self.file, "error": self.error}
        return {"file": self.file, "label": self.label, "confidence": round(self.confidence, 6),
                "not_a_digit": self.not_a_digit, "probabilities": [round(p, 6) for p in self.probabilities]}

    def __str__(self) -> str:
        return self.error if self.error is not None else f"{self.file}: {self.label} ({self.confidence:.1%})"


_lock = threading.Lock()
_shipped: nn.Module | None = None


def default_model() -> nn.Module:
    """The shipped LeNet-5, loaded once and shared by the panel, the app and the CLI, for answers
    only (raises ``CheckpointError`` if it is missing). It is :func:`~lenet_utils.fast.seal` ed:
    folded once, its weights read-only (``requires_grad`` off); to train or change them, load your
    own copy with ``load_pretrained()``."""
    global _shipped
    with _lock:
        if _shipped is None:
            from ..checkpoints import load_pretrained

            _shipped = seal(load_pretrained())
        return _shipped


REPORT = "please report it to the course team with the file (the CLI's --debug shows the details)"


class ModelError(ValueError):
    """A model that cannot answer which digit an image shows (wrong shape, NaN output)."""


def _check_model(model: nn.Module) -> None:
    """Refuse, before running it, a LeNet5 built for other inputs or classes than MNIST digits."""
    config = getattr(model, "config", None)
    if config is None or not hasattr(config, "image_size"):
        return                                          # not a LeNet5: its output is checked instead
    if (config.in_channels, config.image_size) != (1, 28):
        raise ModelError(f"the model reads {config.in_channels}x{config.image_size}x{config.image_size} "
                         "images, not MNIST's 1x28x28; choose a digit model")
    if config.num_classes != 10:
        raise ModelError(f"the model answers {config.num_classes} classes, not the 10 digits; choose a digit model")


def _answer(model: nn.Module, x: torch.Tensor) -> tuple[int, float, list[float], bool]:
    """(label, confidence, ten probabilities, not a digit) for one input ``x`` ``(1, 28, 28)``."""
    _check_model(model)
    frozen = freeze(model)       # the one cache (fast/): folded once for a sealed model, else checked per call
    logits = frozen(x).numpy(force=True).astype(np.float64)   # (1, 10)
    if logits.shape != (1, 10):
        raise ModelError(f"the model gave {logits.shape[-1] if logits.ndim else 0} scores, not one per digit (10)")
    logits = logits[0]
    if not np.isfinite(logits).all():
        raise ModelError("the model's scores are not finite (NaN or infinite weights?); its answer would be "
                         "meaningless. Retrain it or choose another")
    probs = np.exp(logits - logits.max())                       # softmax; for one image numpy is
    probs /= probs.sum()                                        # cheaper than ten small torch calls
    label = int(probs.argmax())
    return label, float(probs[label]), probs.tolist(), _not_a_digit(model, frozen, logits, x)


def blank_scores(model: nn.Module) -> np.ndarray:
    """The model's ten scores ``(10,)`` for a blank input: how the detector recognises the model it was fitted for."""
    blank = torch.full((1, 28, 28), -MNIST_MEAN / MNIST_STD)     # paper everywhere, normalised
    return freeze(model)(blank).numpy(force=True).astype(np.float64)[0]


def _not_a_digit(model: nn.Module, frozen: Frozen, logits: np.ndarray, x: torch.Tensor) -> bool:
    """The detector's verdict (:mod:`.not_a_digit`); the network's features count only for the model
    it was fitted on, the picture's for any."""
    fitted = fitted_for(frozen, lambda: blank_scores(model))               # decided once per frozen copy
    conv = frozen.features(x).astype(np.float64) if fitted else None        # (1, 400) conv features
    return bool(shipped_detector().flags(logits[None], x.numpy(force=True), conv)[0])


def _safe_name(source: object, name: str | None) -> str:
    try:
        text = source_name(source, name)                        # type: ignore[arg-type]
    except Exception:  # an object whose str() fails still gets a name
        text = "image"
    return text.replace("\0", "\\0").replace("\n", " ")          # one line, printable


def _refusal(name: str, err: BaseException) -> Prediction:
    """The boundary: any failure on one image becomes that image's one-line error."""
    if isinstance(err, NoDigitFound):
        return Prediction(name, error=str(err), stages=err.stages)
    if isinstance(err, ImageError):
        return Prediction(name, error=str(err))
    if isinstance(err, (ModelError, CheckpointError, DetectorError)):
        return Prediction(name, error=f"{name}: {err}")
    if isinstance(err, MemoryError):
        return Prediction(name, error=f"{name}: not enough memory to read this image; send a smaller one")
    if os.environ.get("LENET_DEBUG"):
        raise err
    first = one_line(err) if str(err).strip() else ""
    return Prediction(name, error=f"{name}: internal error ({type(err).__name__}{': ' + first if first else ''}); "
                                  f"{REPORT}")


def predict_image(source: ImageSource, model: nn.Module | None = None, *, name: str | None = None,
                  limits: Limits = LIMITS, config: PreprocessConfig = CONFIG) -> Prediction:
    """Preprocess ``source`` like MNIST and classify it. ``model`` defaults to the shipped one.

    Never raises (except with ``LENET_DEBUG`` set, for an unexpected error): a refused image (not
    an image, corrupt, too large, blank), a model that cannot answer, or any other failure gives a
    :class:`Prediction` whose ``error`` is one line naming the image, and whose ``label`` is ``None``.
    """
    name = _safe_name(source, name)
    try:
        pre = preprocess(source, name, limits=limits, config=config)
        model = default_model() if model is None else model
        label, confidence, probs, odd = _answer(model, pre.input)
    except Exception as err:  # the documented boundary: one line per image, never a raise
        return _refusal(name, err)
    return Prediction(name, label, confidence, probs, pre.input, stages=pre.stages, inverted=pre.inverted,
                      not_a_digit=odd)


def predict_naive(source: ImageSource, model: nn.Module | None = None, *, name: str | None = None,
                  limits: Limits = LIMITS) -> Prediction:
    """The same, through the naive resize of :func:`~lenet_utils.images.preprocess.naive_input` (for comparison)."""
    name = _safe_name(source, name)
    try:
        x = naive_input(source, name, limits)
        model = default_model() if model is None else model
        label, confidence, probs, odd = _answer(model, x)
    except Exception as err:  # as predict_image
        return _refusal(name, err)
    return Prediction(name, label, confidence, probs, x, not_a_digit=odd)


def predict_file(path: str | Path, model: nn.Module | None = None, *, limits: Limits = LIMITS) -> Prediction:
    """:func:`predict_image` on a file path, named as given (the CLI's entry point)."""
    return predict_image(Path(path), model, name=str(path), limits=limits)


def example_images(folder: str | Path | None = None) -> list[Path]:
    """The project's own example digits (``data/examples``), sorted; each name starts with its digit."""
    from ..paths import examples_dir

    folder = Path(folder) if folder is not None else examples_dir()
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES and example_label(p) is not None)


def example_label(path: str | Path) -> int | None:
    """The digit an example shows, from its name: ``7_blue_pen.jpg`` -> 7 (None if not so named)."""
    stem = Path(path).stem
    return int(stem[0]) if stem[:1].isdigit() and (len(stem) == 1 or not stem[1].isdigit()) else None
