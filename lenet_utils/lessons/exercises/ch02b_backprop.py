"""Exercise checkers for notebook 02b, backpropagation by hand.

The right answers come from ``lenet_utils.by_hand`` (itself checked against finite differences and
PyTorch's autograd in tests/test_by_hand.py), never typed in here. Like ``by_hand``, this module
needs NumPy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ... import by_hand as bh
from ._answers import as_number, unanswered
from ._core import Feedback, verdict

__all__ = ["check_logit_grad_sum", "check_avgpool_backward", "check_conv_backward", "check_corner_pixel_uses"]


def check_logit_grad_sum(answer: Any) -> Feedback:
    """Exercise 1 (predict, then run): the sum over the 10 classes of one image's dL/dlogits, for the
    mean cross-entropy of a batch of B images, whatever the logits are."""
    hint = ("dL/dlogits for one image is (softmax(logits) - one_hot(label)) / B. Add up the ten entries: "
            "what do the probabilities add up to, and the one-hot vector?")
    if answer is None:
        return unanswered(hint)
    value = as_number(answer)
    if value is None:
        return Feedback(False, "Give one number: the sum of the ten entries of one row.")
    logits = np.random.default_rng(0).normal(size=(8, 10)) * 3
    d_logits = bh.cross_entropy_backward(bh.cross_entropy_forward(logits, np.arange(8))[1])
    truth = float(d_logits.sum(axis=1).max())                 # every row sums to the same number
    if abs(value - truth) < 1e-9:
        return verdict(True, "Zero, for every image: raising one logit and lowering the others by the same total "
                             "changes nothing, because softmax only sees differences between logits.", hint)
    if value in (1.0, 1.0 / 8):
        return Feedback(False, "The probabilities alone add up to 1, but the one-hot vector is subtracted.")
    if value in (-1.0, -1.0 / 8):
        return Feedback(False, "That is the one-hot part alone: the probabilities add something back.")
    return Feedback(False, hint)


def check_corner_pixel_uses(answer: Any) -> Feedback:
    """Exercise 2 (predict, then run): how many of one conv1 map's outputs the top-left pixel of a
    28x28 image feeds, with a 5x5 kernel and padding="same" (so how many terms its gradient sums)."""
    hint = ("Write the 5x5 windows that contain pixel (0, 0): the padding adds 2 rows and 2 columns of zeros "
            "on each side. Check yourself: conv2d_backward of all-ones gradients with an all-ones kernel "
            "counts, for every pixel, the outputs it feeds.")
    if answer is None:
        return unanswered(hint)
    value = as_number(answer)
    if value is None or not value.is_integer():
        return Feedback(False, "Give a whole number of outputs.")
    ones = np.ones((1, 1, 28, 28))
    out, cache = bh.conv2d_forward(ones, np.ones((1, 1, 5, 5)), np.zeros(1), "same")
    uses = bh.conv2d_backward(np.ones_like(out), cache)[0][0, 0]    # (28, 28): outputs each pixel feeds
    truth = int(uses[0, 0])
    if value == truth:
        return verdict(True, f"{truth}: a 3x3 block of window positions. A pixel in the middle feeds "
                             f"{int(uses[14, 14])}, so its gradient sums {int(uses[14, 14])} terms: the backward "
                             "pass adds up every path from a number to the loss.", hint)
    if value == uses[14, 14]:
        return Feedback(False, "That is a pixel in the middle of the image. Near the edge, some windows would "
                               "hang over the border, into the padding.")
    if value == 1:
        return Feedback(False, "It would be 1 for a 1x1 kernel. A 5x5 window can sit in several places and "
                               "still cover the corner.")
    return Feedback(False, hint)


def _conv_case(seed: int, channels: int = 2, filters: int = 3, side: int = 6, k: int = 3):
    g = np.random.default_rng(seed)
    x_padded = g.normal(size=(2, channels, side, side))
    w = g.normal(size=(filters, channels, k, k))
    out, cache = bh.conv2d_forward(x_padded, w, np.zeros(filters), 0)
    d_out = g.normal(size=out.shape)
    return x_padded, w, d_out, bh.conv2d_backward(d_out, cache)


def check_conv_backward(answer: Any, variant: int = 0) -> Feedback:
    """Exercise 3 (find the bug): ``answer(d_out, x_padded, K)`` returns (dL/dx_padded, dL/dK, dL/db)
    of a stride-1 convolution without padding, with loops. Checked on two random cases against
    ``by_hand.conv2d_backward`` (itself checked by finite differences); ``variant`` > 0 draws other
    numbers and shapes (the graded assignment's hidden test)."""
    hint = ("Compare each line with the forward pass: out[b, f, h, w] += x_padded[b, c, h + i, w + j] * K[f, c, i, j]. "
            "Each gradient multiplies d_out[b, f, h, w] by what the output was multiplied by, at the same indices.")
    if answer is None:
        return unanswered(hint)
    if not callable(answer):
        return Feedback(False, "`answer` should be your function itself (answer = conv_backward_loops), "
                               "not its result.")
    cases = ((0, {}), (1, dict(channels=3, filters=2, side=7, k=2)))
    if variant:
        cases = ((10 * variant, dict(channels=1, filters=4, side=8, k=4)),
                 (10 * variant + 1, dict(channels=2, filters=1, side=5, k=5)))
    for seed, shape in cases:
        x_padded, w, d_out, (d_x, d_w, d_b) = _conv_case(seed, **shape)
        try:
            got = answer(d_out, x_padded.copy(), w.copy())
        except Exception as err:  # the learner's code: report it, do not crash the notebook
            return Feedback(False, f"Your function raised {type(err).__name__}: {err}. " + hint)
        if not isinstance(got, tuple) or len(got) != 3:
            return Feedback(False, "Return three arrays: (d_x_padded, d_K, d_b).")
        for name, yours, want in (("d_b", got[2], d_b), ("d_K", got[1], d_w), ("d_x_padded", got[0], d_x)):
            yours = np.asarray(yours, dtype=float)
            if yours.shape != want.shape:
                return Feedback(False, f"{name} has shape {yours.shape}; it must have the shape of what it is the "
                                       f"gradient of, {want.shape}.")
            error = bh.relative_error(yours, want)
            if error > 1e-8:
                return Feedback(False, f"{name} is wrong (relative error {error:.2g}; the others before it are right). "
                                       f"Look at the line that adds to {name}: " + hint)
    return verdict(True, "All three gradients pass, on two shapes (an even kernel too): the loops are the chain "
                         "rule written out, and by_hand.conv2d_backward computes the same with two matrix products.",
                   hint)


def check_avgpool_backward(answer: Any, variant: int = 0) -> Feedback:
    """Exercise 4: ``answer(d_out, x_shape)`` returns dL/dx of 2x2 average pooling with stride 2
    (``by_hand.avgpool_forward(x)``), for any x_shape (B, C, H, W), odd H or W included.
    ``variant`` > 0 draws other numbers and shapes (the graded assignment's hidden test)."""
    hint = ("Each output is the mean of 4 inputs, so d out / d input = 1/4 for the 4 inputs of its window "
            "and 0 for every other input. Spread each d_out value over its 2x2 window.")
    if answer is None:
        return unanswered(hint)
    if not callable(answer):
        return Feedback(False, "`answer` should be your function itself (answer = my_avgpool_backward), "
                               "not its result.")
    g = np.random.default_rng(variant)
    shapes = ((2, 3, 6, 6), (1, 2, 4, 8), (2, 1, 7, 5))
    if variant:
        shapes = ((3, 2, 10, 4), (1, 1, 9, 9), (2, 4, 2, 11))
    for shape in shapes:
        x = g.normal(size=shape)
        out, cache = bh.avgpool_forward(x)
        d_out = g.normal(size=out.shape)
        want = bh.avgpool_backward(d_out, cache)
        try:
            yours = answer(d_out.copy(), shape)
        except Exception as err:  # the learner's code
            if shape[2] % 2 or shape[3] % 2:
                return Feedback(False, f"Right for even sides, but an odd side raised {type(err).__name__}: {err}. "
                                       "AvgPool2d leaves out a last row or column that fills no window: its "
                                       "gradient is 0.")
            return Feedback(False, f"Your function raised {type(err).__name__}: {err}. " + hint)
        yours = np.asarray(yours, dtype=float)
        if yours.shape != tuple(shape):
            return Feedback(False, f"For x of shape {shape} the gradient must have that shape too; yours is "
                                   f"{yours.shape}.")
        if np.allclose(yours, 4 * want):
            return Feedback(False, "The pattern is right but 4 times too large: the mean divides by 4, "
                                   "and so does its derivative.")
        if np.count_nonzero(yours) and np.count_nonzero(yours) <= out.size:
            return Feedback(False, "Only one input per window got a gradient: that is max pooling. With the "
                                   "mean, all four inputs count equally.")
        if not np.allclose(yours, want, rtol=1e-10, atol=1e-12):
            return Feedback(False, hint)
    return verdict(True, "Right, odd sides included. Average pooling's backward is an upsampling: the gradient "
                         "is spread evenly back over each window.", hint)
