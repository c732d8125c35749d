"""Exercise checkers for notebook 03b, generalisation.

The right answers come from the package itself: the receptive field from the config's layers
(:func:`receptive_field`), the shifted-digit accuracy from the shipped model run on shifted
validation digits (:func:`shifted_accuracy`), so a checker cannot disagree with the lesson.
"""

from __future__ import annotations

from typing import Any

import torch

from ...config import POOL_SIZE, LeNetConfig
from ._answers import as_number, unanswered
from ._core import Feedback, verdict

__all__ = ["check_receptive_field", "check_shift_prediction"]   # the notebook's; the helpers are imported by name

RF_CONFIG = LeNetConfig(conv1_kernel=3, conv2_kernel=3)   # notebook 06's "3x3-kernels" variant
SHIFT_PIXELS = 4                                          # exercise 2: every validation digit moved 4 px right
SHIFT_CHOICES = {"a": "98% or more: almost nothing lost", "b": "between 80% and 98%", "c": "below 80%"}


def receptive_field(config: LeNetConfig | None = None, upto: str = "pool2") -> int:
    """Side of the input patch one unit of ``upto`` sees: r grows by (k - 1) x jump at each layer,
    and the jump (input pixels between neighbouring units) doubles at each 2x2 pooling."""
    config = config or LeNetConfig()
    r, jump = 1, 1
    for stage in ("1", "2"):
        r += (getattr(config, f"conv{stage}_kernel") - 1) * jump     # a k x k convolution
        if upto == f"conv{stage}":
            return r
        r += (POOL_SIZE - 1) * jump                                 # a 2x2 pooling, stride 2
        jump *= POOL_SIZE
        if upto == f"pool{stage}":
            return r
    raise ValueError(f"upto must be conv1, pool1, conv2 or pool2, got {upto!r}")


def check_receptive_field(answer: Any) -> Feedback:
    """Exercise 1: the receptive field of one pool2 unit in the 3x3-kernels variant (``RF_CONFIG``)."""
    hint = ("Walk the layers from the input: a k x k convolution widens the patch by (k - 1) x the jump, a "
            "2x2 pooling by 1 x the jump, then doubles the jump (start: patch 1, jump 1).")
    if answer is None:
        return unanswered(hint)
    value = as_number(answer)
    if value is None or not value.is_integer() or value < 1:
        return Feedback(False, "Give the side of the patch in input pixels: one whole number.")
    value, truth = int(value), receptive_field(RF_CONFIG)
    if value == receptive_field(LeNetConfig()):
        return Feedback(False, "That is the reference network's, with 5x5 kernels; this variant's are 3x3. " + hint)
    if value == receptive_field(RF_CONFIG, "conv2"):
        return Feedback(False, "That is one conv2 unit's patch: pool2 averages a 2x2 block of them. " + hint)
    if value == receptive_field(RF_CONFIG, "pool1") + 2 + 1:         # conv2 and pool2 counted with jump 1
        return Feedback(False, "Remember the jump: after pool1, neighbouring units are 2 input pixels apart. "
                        + hint)
    return verdict(value == truth, f"{truth} x {truth}: smaller kernels see less, so the variant's last maps look at "
                                   "smaller pieces of the digit than the reference's 16 x 16.", hint)


def shift_right(pixels: torch.Tensor, dx: int) -> torch.Tensor:
    """uint8 digits ``(N, 28, 28)`` moved ``dx`` pixels right, blank paper (0) coming in on the left."""
    out = torch.zeros_like(pixels)
    out[:, :, dx:] = pixels[:, :, :pixels.shape[2] - dx] if dx else pixels
    return out


def shifted_accuracy(dx: int, count: int = 5_000) -> float:
    """The shipped model's accuracy on the first ``count`` validation digits, each moved ``dx`` px right."""
    from ...checkpoints import load_pretrained
    from ...data import load_mnist, normalize
    from ...inference import predict_logits

    val = load_mnist("val").subset(count)
    logits = predict_logits(load_pretrained(), normalize(shift_right(val.pixels, dx)))
    return (logits.argmax(1) == val.labels).float().mean().item()


def check_shift_prediction(answer: Any) -> Feedback:
    """Exercise 2, predict before you run: the shipped model's validation accuracy when every digit is
    moved ``SHIFT_PIXELS`` pixels right: ``"a"``, ``"b"`` or ``"c"`` (``SHIFT_CHOICES``)."""
    hint = ("Think about what a pool2 unit sees (16 x 16 input pixels) and how far 4 pixels is against the "
            "2 pixels pool1 and the 4 pixels pool2 average over; the augmented training shifted digits by up "
            "to 1.5 pixels.")
    if answer is None:
        return unanswered(hint)
    choice = str(answer).strip().lower().strip("()")
    if choice not in SHIFT_CHOICES:
        return Feedback(False, "Answer with one letter: 'a', 'b' or 'c'.")
    acc = shifted_accuracy(SHIFT_PIXELS)
    truth = "a" if acc >= 0.98 else "b" if acc >= 0.80 else "c"
    measured = f"Measured: {acc:.1%} of the validation digits read right after a {SHIFT_PIXELS}-pixel shift."
    if choice == truth:
        return Feedback(True, measured + " Convolution and pooling tolerate small shifts, not large ones: the "
                                         "fully connected layers still expect strokes near where they were.")
    return Feedback(False, f"Your prediction was {SHIFT_CHOICES[choice]!r}. {measured} Before the next one, ask "
                           "which layer cares about where a stroke is.")
