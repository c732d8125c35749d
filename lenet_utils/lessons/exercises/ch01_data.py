"""Exercise checkers for notebook 01, what a digit is to the network.

Notebook 01 looks at MNIST's whole training file (``load_mnist("train_full")``, 60,000 digits), and
so do these checkers.

The right answers are computed from the data (and from ``normalize``), never typed in here.
"""

from __future__ import annotations

from typing import Any

import torch

from ...data import MNIST_MEAN, MNIST_STD, load_mnist, normalize
from ._answers import as_number, close, unanswered
from ._core import Feedback, Hints, option_for, prediction_feedback, verdict

__all__ = ["check_most_ink", "check_blank_fraction", "check_normalized_pixel", "check_predict_nearest_mean"]

EXERCISE_PIXEL = 128  # exercise 3: a half-ink pixel

# Tiered hints (see _core): a nudge first, the code last; each failed check shows the next level.
MOST_INK_HINTS = Hints("check_most_ink", (
    "Look at the ten mean images of section 5 first: which one has the most light area? Then measure it.",
    "For each digit, average every pixel of all its training images, and compare the ten averages.",
    "`ink = [train.pixels[train.labels == d].float().mean() for d in range(10)]`, then the position of "
    "the largest: `torch.stack(ink).argmax()`.",
))
BLANK_HINTS = Hints("check_blank_fraction", (
    "Blank paper is a pixel that is exactly 0. How many such pixels are there, out of how many in all?",
    "Compare every training pixel with 0 at once (one comparison on the whole tensor gives True/False "
    "per pixel); then count the True values and divide by the total number of pixels.",
    "`((train.pixels == 0).sum() / train.pixels.numel()).item()`: give it to at least 3 decimals.",
))
NORMALIZED_HINTS = Hints("check_normalized_pixel", (
    "Section 6 turns a pixel into the network's input in two steps: first a change of scale, then a "
    "shift and a division by two constants of the training set.",
    "Scale to [0, 1] first (divide by 255), then subtract MNIST_MEAN and divide by MNIST_STD.",
    "`(128 / 255 - MNIST_MEAN) / MNIST_STD`",
))


def check_most_ink(answer: Any) -> Feedback:
    """Exercise 1: which digit uses the most ink on average (the highest mean pixel value)?"""
    hint = MOST_INK_HINTS
    if answer is None:
        return unanswered(hint)
    value = as_number(answer)
    if value is None or not value.is_integer() or not 0 <= value <= 9:
        return Feedback(False, "Give one digit, a whole number from 0 to 9.")
    train = load_mnist("train_full")
    ink = torch.stack([train.pixels[train.labels == d].double().mean() for d in range(10)])  # (10,)
    truth, least = int(ink.argmax()), int(ink.argmin())
    if value == least:
        return hint.failed("That digit uses the LEAST ink on average: look for the largest mean. ")
    if value != truth:
        return hint.failed(f"A {int(value)} averages {ink[int(value)].item():.1f} out of 255 per pixel; "
                           "one digit averages more. ")
    return verdict(True, f"A {truth} averages {ink[truth].item():.1f} of 255 per pixel, a {least} only "
                         f"{ink[least].item():.1f}. Ink alone already separates some digits; the network "
                         "needs shapes to separate the rest.", hint)


def check_blank_fraction(answer: Any) -> Feedback:
    """Exercise 2: what fraction of all training pixels are exactly 0 (blank paper)?"""
    hint = BLANK_HINTS
    if answer is None:
        return unanswered(hint)
    value = as_number(answer)
    if value is None:
        return Feedback(False, "Give one number between 0 and 1.")
    if not 0 <= value <= 1:
        return hint.failed("A fraction lies between 0 and 1: divide the count by the number of pixels "
                           "(60,000 x 28 x 28). ")
    blank = load_mnist("train_full").pixels == 0                      # (60000, 28, 28) bool: 1 byte a pixel
    truth = blank.sum().item() / blank.numel()                   # no float copy of 47 million pixels
    if close(value, 1 - truth, 1e-3):
        return hint.failed("That is the fraction of pixels with some ink (not 0). Count the blank ones. ")
    return verdict(close(value, truth, 1e-3),
                   f"About {round(truth * 10)} pixels in 10 are blank paper: a digit is a little ink on a "
                   "lot of paper, and a convolution slides over a lot of zeros.", hint)


def check_normalized_pixel(answer: Any) -> Feedback:
    """Exercise 3: a pixel of 128 (half ink): what number does the network receive after normalisation?"""
    hint = NORMALIZED_HINTS
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
        return hint.failed("That is the pixel scaled to [0, 1]; the network also gets it centred and scaled. ")
    if close(value, (EXERCISE_PIXEL - MNIST_MEAN) / MNIST_STD, 0.5):
        return hint.failed("The mean and std are for pixels in [0, 1], not 0-255. ")
    return verdict(False, "", hint)


# --- predict before you run: the nearest-mean classifier ---------------------------------------
NEAREST_MEAN_OPTIONS = {"a": "under 30% (little better than guessing)", "b": "30% to 60%",
                        "c": "60% to 90%", "d": "90% or more (close to a trained network)"}
NEAREST_MEAN_RANGES = {"a": (0.0, 0.3), "b": (0.3, 0.6), "c": (0.6, 0.9), "d": (0.9, 1.01)}


def check_predict_nearest_mean(prediction: Any) -> Feedback:
    """Predict before you run: what share of the test set does "the label of the nearest mean image" get
    right? ``prediction``: one of "a"-"d" (NEAREST_MEAN_OPTIONS). The truth is measured here."""
    acc = _nearest_mean_accuracy()
    return prediction_feedback(
        prediction, NEAREST_MEAN_OPTIONS, option_for(acc, NEAREST_MEAN_RANGES), f"{acc:.1%}",
        "Ten averages and no learning already read most digits: much of a digit's identity is *where* its "
        "ink usually lies. What remains is the hard part, the 1 in 5 that differ from their class's average.")


# --- ground truth -----------------------------------------------------------------------------
def _normalized(pixel: int) -> float:
    """What ``normalize`` (the network's input pipeline) makes of one pixel value."""
    return normalize(torch.tensor([[pixel]], dtype=torch.uint8)).item()


def _nearest_mean_accuracy() -> float:
    """The nearest-mean-image classifier's test accuracy, computed from the data (as notebook 01 does)."""
    train, test = load_mnist("train_full"), load_mnist("test")
    means = torch.stack([train.pixels[train.labels == d].double().mean(0) for d in range(10)])   # (10, 28, 28)
    nearest = torch.cdist(test.pixels.flatten(1).double(), means.flatten(1)).argmin(1)           # (10000,)
    return (nearest == test.labels).double().mean().item()
