"""Exercise checkers for notebook 01, what a digit is to the network.

The right answers are computed from the data (and from ``normalize``), never typed in here.
"""

from __future__ import annotations

from typing import Any

import torch

from ...data import MNIST_MEAN, MNIST_STD, load_mnist, normalize
from ._answers import as_number, close, unanswered
from ._core import Feedback, verdict

__all__ = ["check_most_ink", "check_blank_fraction", "check_normalized_pixel"]

EXERCISE_PIXEL = 128  # exercise 3: a half-ink pixel


def check_most_ink(answer: Any) -> Feedback:
    """Exercise 1: which digit uses the most ink on average (the highest mean pixel value)?"""
    hint = ("For each digit d, take the training pixels of that class (`train.pixels[train.labels == d]`) "
            "and average them (`.float().mean()`); the mean images above give a first guess.")
    if answer is None:
        return unanswered(hint)
    value = as_number(answer)
    if value is None or not value.is_integer() or not 0 <= value <= 9:
        return Feedback(False, "Give one digit, a whole number from 0 to 9.")
    train = load_mnist("train")
    ink = torch.stack([train.pixels[train.labels == d].double().mean() for d in range(10)])  # (10,)
    truth, least = int(ink.argmax()), int(ink.argmin())
    if value == least:
        return Feedback(False, "That digit uses the LEAST ink on average: look for the largest mean.")
    if value != truth:
        return Feedback(False, f"A {int(value)} averages {ink[int(value)].item():.1f} out of 255 per pixel; "
                               "one digit averages more. " + hint)
    return verdict(True, f"A {truth} averages {ink[truth].item():.1f} of 255 per pixel, a {least} only "
                         f"{ink[least].item():.1f}. Ink alone already separates some digits; the network "
                         "needs shapes to separate the rest.", hint)


def check_blank_fraction(answer: Any) -> Feedback:
    """Exercise 2: what fraction of all training pixels are exactly 0 (blank paper)?"""
    hint = ("`(train.pixels == 0)` is a boolean tensor; count its True values with `.sum()` and divide by "
            "the number of pixels, `.numel()`. Give it to at least 3 decimals.")
    if answer is None:
        return unanswered(hint)
    value = as_number(answer)
    if value is None:
        return Feedback(False, "Give one number between 0 and 1.")
    if not 0 <= value <= 1:
        return Feedback(False, "A fraction lies between 0 and 1: divide the count by the number of pixels "
                               "(60,000 x 28 x 28). " + hint)
    blank = load_mnist("train").pixels == 0                      # (60000, 28, 28) bool: 1 byte a pixel
    truth = blank.sum().item() / blank.numel()                   # no float copy of 47 million pixels
    if close(value, 1 - truth, 1e-3):
        return Feedback(False, "That is the fraction of pixels with some ink (not 0). Count the blank ones.")
    return verdict(close(value, truth, 1e-3),
                   f"About {round(truth * 10)} pixels in 10 are blank paper: a digit is a little ink on a "
                   "lot of paper, and a convolution slides over a lot of zeros.", hint)


def check_normalized_pixel(answer: Any) -> Feedback:
    """Exercise 3: a pixel of 128 (half ink): what number does the network receive after normalisation?"""
    hint = "Scale to [0, 1] first (divide by 255), then subtract MNIST_MEAN and divide by MNIST_STD."
    if answer is None:
        return unanswered(hint)
    value = as_number(answer)
    if value is None:
        return Feedback(False, "Give one number (a float).")
    truth = _normalized(EXERCISE_PIXEL)
    if close(value, truth, 1e-3):
        return verdict(True, f"Half ink sits {truth:.1f} standard deviations above the average pixel; the "
                             f"network's inputs run from {_normalized(0):.2f} (paper) to {_normalized(255):.2f} "
                             "(full ink).", hint)
    if close(value, EXERCISE_PIXEL / 255, 1e-3):
        return Feedback(False, "That is the pixel scaled to [0, 1]; the network also gets it centred and scaled. "
                               + hint)
    if close(value, (EXERCISE_PIXEL - MNIST_MEAN) / MNIST_STD, 0.5):
        return Feedback(False, "The mean and std are for pixels in [0, 1], not 0-255. " + hint)
    return Feedback(False, hint)


# --- ground truth -----------------------------------------------------------------------------
def _normalized(pixel: int) -> float:
    """What ``normalize`` (the network's input pipeline) makes of one pixel value."""
    return normalize(torch.tensor([[pixel]], dtype=torch.uint8)).item()
