"""Does this look like one digit? A small detector beside the network, fitted on data.

LeNet-5 always answers one of ten digits, however strange the input: a letter, a heart or a scribble
gets a digit too, often with high confidence. Confidence alone cannot say "none of these", so the
detector reads numbers the network and the picture already give:

    from the network                              from the 28x28 input the network saw
    - its largest score (logit), and the lead     - how much ink, and how thick the strokes are
      over the second                             - the ink's width against its height
    - the energy: log of the summed exp(score)    - how many separate pieces of ink, and the
    - how far the ten scores lie from those real    largest piece's share (two digits: two pieces)
      digits of each class give (Mahalanobis)
    - the 400 features conv2 hands to fc1 (16 maps of 5x5): what strokes and corners it saw, and where

A logistic regression on these and their squares weighs them into one probability of "not a digit":
in effect one more output neuron, trained beside the network without changing it, so every answer
and the test accuracy stay as they were. ``scripts/fit_not_a_digit.py`` fitted it on MNIST training
digits against generated non-digits (``lenet_utils/synthetic/non_digits.py``) and set its threshold so that 1%
of correctly read held-out digits are flagged. Its parameters ship in ``pretrained/not_a_digit.json``.

The network's features belong to the shipped model: the detector recognises it by its scores for a
blank input. For any other model (one you trained) it uses the picture's features alone, fitted the
same way, and catches far fewer non-digits (``benchmarks/not_a_digit.py`` measures both).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data import MNIST_MEAN, MNIST_STD
from ..fast import Frozen, freeze
from ..paths import PACKAGE_DIR

__all__ = ["DETECTOR_FILE", "Detector", "DetectorError", "conv_features", "expand", "fitted_for",
           "image_features", "load_detector", "shipped_detector"]

DETECTOR_FILE = PACKAGE_DIR / "pretrained" / "not_a_digit.json"
IMAGE_FEATURES = ("ink", "ink_area", "thickness", "aspect", "pieces", "largest_piece")
MODEL_FEATURES = ("max_score", "lead", "energy", "distance")
CONV_FEATURES = 400                       # conv2's 16 maps of 5x5, what fc1 reads


class DetectorError(ValueError):
    """The detector's parameter file is missing, unreadable or not a detector."""


def ink_of(x: np.ndarray) -> np.ndarray:
    """Normalised network inputs ``(..., 28, 28)`` -> ink ``0..1`` (undoing ``data.normalize``)."""
    return np.clip(np.asarray(x, np.float32) * MNIST_STD + MNIST_MEAN, 0.0, 1.0)


def _pieces(mask: np.ndarray) -> list[int]:
    """Sizes of the 8-connected pieces of ``mask`` ``(28, 28)`` bool, largest first. Each row's runs of ink
    are joined to the runs they touch in the row above (union-find): ~60 runs, not ~150 pixels, to visit."""
    edges = np.diff(np.pad(mask, ((0, 0), (1, 1))).astype(np.int8), axis=1)   # +1 where a run starts, -1 after it
    rows, starts = np.nonzero(edges == 1)
    ends = np.nonzero(edges == -1)[1]                                             # same order: row by row
    starts_, ends_ = starts.tolist(), ends.tolist()
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    above: list[int] = []                                                         # runs of the previous row
    here: list[int] = []
    row = -1
    for k, (r, s, e) in enumerate(zip(rows.tolist(), starts_, ends_)):
        if r != row:
            above, here, row = (here if r == row + 1 else []), [], r
        for j in above:
            if starts_[j] <= e and ends_[j] >= s:                                 # overlapping or touching diagonally
                parent[root(k)] = root(j)
        here.append(k)
    sizes: dict[int, int] = {}
    for k, length in enumerate((ends - starts).tolist()):
        sizes[root(k)] = sizes.get(root(k), 0) + length
    return sorted(sizes.values(), reverse=True)


def image_features(ink: np.ndarray) -> np.ndarray:
    """One picture's features ``(6,)`` in :data:`IMAGE_FEATURES` order, from its ink ``(28, 28)`` in 0..1."""
    on = ink > 0.5                                                   # the strokes, as MNIST's anti-aliasing draws them
    area = max(int(on.sum()), 1)
    inner = on[1:-1, 1:-1] & on[:-2, 1:-1] & on[2:, 1:-1] & on[1:-1, :-2] & on[1:-1, 2:]   # all 4 neighbours ink
    rows, cols = np.nonzero(ink > 0.2)
    height = rows.max() - rows.min() + 1 if len(rows) else 1
    width = cols.max() - cols.min() + 1 if len(cols) else 1
    sizes = [s for s in _pieces(on) if s >= 3] or [0]                 # specks of 1-2 pixels are not pieces
    return np.array([ink.mean(), area / ink.size, inner.sum() / area, np.log(width / height),
                     len(sizes), sizes[0] / area], np.float64)


def model_features(logits: np.ndarray, means: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """Features ``(N, 4)`` in :data:`MODEL_FEATURES` order from scores ``(N, 10)``; ``means`` ``(10, 10)``
    are each class's mean scores over real digits, ``precision`` ``(10, 10)`` their shared inverse covariance."""
    z = np.asarray(logits, np.float64)
    top2 = np.sort(z, axis=1)[:, -2:]                                # (N, 2) second best, best
    energy = top2[:, 1] + np.log(np.exp(z - top2[:, 1:]).sum(1))      # logsumexp, stably
    d = z[:, None, :] - means[None]                                   # (N, 10 classes, 10 scores)
    distance = np.einsum("ncj,jk,nck->nc", d, precision, d).min(1)    # to the nearest class's centre
    return np.stack([top2[:, 1], top2[:, 1] - top2[:, 0], energy, np.log1p(distance)], 1)


def expand(features: np.ndarray) -> np.ndarray:
    """Features ``(N, F)`` -> ``(N, 2F)``: each one and its square (a linear model can then draw curved borders)."""
    f = np.asarray(features, np.float64)
    return np.concatenate([f, f ** 2], 1)


@dataclass(frozen=True)
class Weights:
    """A logistic regression on standardised features and their squares, ``g = [f, f**2]``:
    p = sigmoid(w . (g - mean) / scale + bias)."""

    mean: np.ndarray
    scale: np.ndarray
    w: np.ndarray
    bias: float
    threshold: float              # flag when p >= threshold

    def probability(self, features: np.ndarray) -> np.ndarray:
        """``(N,)`` probabilities from features ``(N, F)``."""
        t = (expand(features) - self.mean) / self.scale @ self.w + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(t, -50, 50)))


@dataclass(frozen=True)
class Detector:
    """The fitted detector (see the module's docstring); :func:`load_detector` reads one."""

    full: Weights                 # scores + picture + conv2's 400 features, for the model it was fitted on
    image_only: Weights           # the picture's features alone, for any other model
    class_means: np.ndarray       # (10, 10) mean scores of each class's real digits
    precision: np.ndarray         # (10, 10) shared inverse covariance of the scores
    probe: np.ndarray             # (10,) the fitted model's scores for a blank input: tells it apart
    temperature: float            # the model's fitted temperature (calibration), for reference
    info: dict                    # how it was fitted: seeds, data, measured rates

    def fitted_for(self, blank_scores: np.ndarray) -> bool:
        """Whether a model that gives ``blank_scores`` ``(10,)`` for a blank input is the one fitted for."""
        return bool(np.allclose(blank_scores, self.probe, atol=1e-3))

    def probability(self, logits: np.ndarray, inputs: np.ndarray, conv: np.ndarray | None = None) -> np.ndarray:
        """``(N,)`` probability that each input is not one digit, from the model's scores ``(N, 10)``, its
        inputs ``(N, 28, 28)`` (normalised) and, for the model fitted for, its conv features ``(N, 400)``
        (:func:`conv_features`). Without ``conv`` only the picture's features are used."""
        image = np.stack([image_features(a) for a in ink_of(np.asarray(inputs).reshape(-1, 28, 28))])
        if conv is None:
            return self.image_only.probability(image)
        scores = model_features(logits, self.class_means, self.precision)
        return self.full.probability(np.concatenate([scores, image, np.asarray(conv, np.float64)], 1))

    def flags(self, logits: np.ndarray, inputs: np.ndarray, conv: np.ndarray | None = None) -> np.ndarray:
        """``(N,)`` bool: True where the input does not look like one digit (arguments as :meth:`probability`)."""
        threshold = (self.full if conv is not None else self.image_only).threshold
        return self.probability(logits, inputs, conv) >= threshold


def conv_features(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    """LeNet-5's conv part on inputs ``(N, 1, 28, 28)``: the ``(N, 400)`` features its fully connected
    layers read (conv2's 16 maps of 5x5, pooled and through ReLU, flattened): the model's frozen
    copy (``fast.freeze``) runs the layers of ``model.conv_stages`` and ``flatten``, folded."""
    return freeze(model).features(x).astype(np.float64)


def _weights(d: dict, n: int) -> Weights:
    w = Weights(np.array(d["mean"], np.float64), np.array(d["scale"], np.float64), np.array(d["w"], np.float64),
                float(d["bias"]), float(d["threshold"]))
    if not (w.mean.shape == w.scale.shape == w.w.shape == (2 * n,)) or not np.all(w.scale > 0):
        raise ValueError(f"expected {n} features and their squares, with positive scales")
    return w


def load_detector(path: str | Path | None = None) -> Detector:
    """Read a detector written by ``scripts/fit_not_a_digit.py`` (default: the shipped one, :data:`DETECTOR_FILE`);
    a clear :class:`DetectorError` if it can't."""
    path = Path(DETECTOR_FILE if path is None else path)
    try:
        d = json.loads(path.read_text())
        det = Detector(_weights(d["full"], len(MODEL_FEATURES) + len(IMAGE_FEATURES) + CONV_FEATURES),
                       _weights(d["image_only"], len(IMAGE_FEATURES)),
                       np.array(d["class_means"], np.float64), np.array(d["precision"], np.float64),
                       np.array(d["probe"], np.float64), float(d["temperature"]), dict(d.get("info", {})))
        if det.class_means.shape != (10, 10) or det.precision.shape != (10, 10) or det.probe.shape != (10,):
            raise ValueError("class_means and precision must be 10x10, probe 10 scores")
    except FileNotFoundError:
        raise DetectorError(f"{path}: the not-a-digit detector is missing; run scripts/fit_not_a_digit.py "
                            "or reinstall the package") from None
    except (OSError, ValueError, KeyError, TypeError) as err:   # json.JSONDecodeError is a ValueError
        raise DetectorError(f"{path}: not a not-a-digit detector ({type(err).__name__}: {err}); "
                            "run scripts/fit_not_a_digit.py to write it again") from None
    return det


_lock = threading.Lock()
_shipped: Detector | None = None


def shipped_detector() -> Detector:
    """The package's detector, read once."""
    global _shipped
    with _lock:
        if _shipped is None:
            _shipped = load_detector()
        return _shipped


def fitted_for(frozen: Frozen, blank_scores: Callable[[], np.ndarray]) -> bool:
    """Whether the shipped detector was fitted for the model ``frozen`` copies, so that its network
    features count: decided once per frozen copy and kept on it (``Frozen.derived``), from the
    model's ``(10,)`` scores for a blank input, ``blank_scores()``."""
    return bool(frozen.derived("not-a-digit detector fitted for it",
                               lambda: shipped_detector().fitted_for(np.asarray(blank_scores(), np.float64))))
