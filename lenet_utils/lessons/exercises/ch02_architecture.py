"""Exercise checkers for notebook 02, LeNet-5 layer by layer.

The right answers come from real layers (a forward pass, a parameter count, the package's own
:class:`~lenet_utils.LeNet5`), never typed in here.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from ...model import LeNet5
from ._answers import as_number, unanswered
from ._core import Feedback, verdict

__all__ = ["check_lenet5", "check_conv_output_size", "check_conv_params", "check_collapsed_params"]

# Exercise 1's layer and input: a strided 3x3 convolution on the 14x14 maps after S2.
EXERCISE_CONV = dict(in_channels=6, out_channels=16, kernel_size=3, stride=2, padding=1)
EXERCISE_SIDE = 14


def check_lenet5(answer: Any, variant: int = 0) -> Feedback:
    """The network written by hand: ``answer`` is your LeNet-5 class. It must hold the package's
    layers under the same names with the same shapes, parameter for parameter, and, given the
    package's weights, compute the same logits. ``variant`` seeds other weights and inputs (the
    graded assignment's hidden test)."""
    hint = ("One attribute per row of the shape table, named as there (conv1, pool1, relu1, ..., fc3), "
            "and a forward that calls them in that order.")
    if answer is None:
        return unanswered(hint)
    if not (isinstance(answer, type) and issubclass(answer, nn.Module)):
        return Feedback(False, "`answer` should be your class itself (answer = MyLeNet5), a subclass of nn.Module.")
    with torch.random.fork_rng(devices=[]):                 # the learner's random state is left as it was
        torch.manual_seed(variant)
        reference = LeNet5().eval()
        x = torch.randn(4, 1, 28, 28)
        try:
            yours = answer().eval()
        except Exception as err:  # the learner's code: report it, do not crash the notebook
            return Feedback(False, f"Building your class raised {type(err).__name__}: {err}. " + hint)
    layers = dict(yours.named_children())
    for name, layer in reference.named_children():
        if not isinstance(layers.get(name), type(layer)):
            yours_is = type(layers[name]).__name__ if name in layers else "missing"
            return Feedback(False, f"`self.{name}` should be an nn.{type(layer).__name__} (yours: {yours_is}). " + hint)
    want = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in yours.state_dict().items()}
    for name, shape in want.items():
        if got.get(name) != shape:
            return Feedback(False, f"`{name}` has shape {got.get(name)}, LeNet-5's is {shape}: check that "
                                   "layer's sizes (channels in and out, kernel side, features in and out).")
    if set(got) != set(want):
        return Feedback(False, f"Your network has parameters LeNet-5 does not: {sorted(set(got) - set(want))}.")
    yours.load_state_dict(reference.state_dict())
    try:
        with torch.no_grad():
            logits = yours(x)
    except Exception as err:  # the learner's forward
        return Feedback(False, f"Your forward raised {type(err).__name__}: {err}. " + hint)
    if not isinstance(logits, torch.Tensor) or logits.shape != (4, 10):
        return Feedback(False, "forward should return the logits, one row of 10 scores per image: shape (B, 10).")
    with torch.no_grad():
        same = torch.allclose(logits, reference(x), rtol=1e-5, atol=1e-6)
    return verdict(same, "Parameter for parameter and output for output, your class is the package's LeNet5.",
                   "The layers and weights are right but the logits differ: check forward's order "
                   "(pooling, then the activation) and that it uses every layer once.")


def check_conv_output_size(answer: Any) -> Feedback:
    """Exercise 1: the side of ``Conv2d(6, 16, kernel_size=3, stride=2, padding=1)``'s output
    on a (B, 6, 14, 14) input."""
    n, k, s, p = EXERCISE_SIDE, EXERCISE_CONV["kernel_size"], EXERCISE_CONV["stride"], EXERCISE_CONV["padding"]
    hint = ("Use the output-size formula with this layer's n, k, p and s; then check yourself by running "
            "the layer on `torch.zeros(1, 6, 14, 14)`.")
    if answer is None:
        return unanswered(hint)
    if isinstance(answer, (tuple, list, torch.Size)):
        return Feedback(False, "Give the side only (one number): the output map is square.")
    value = as_number(answer)
    if value is None:
        return Feedback(False, "Give one number: the side of the square output map.")
    layer = nn.Conv2d(**EXERCISE_CONV, device="meta")  # shapes only: no memory, no draw on the RNG
    truth = layer(torch.zeros(1, EXERCISE_CONV["in_channels"], n, n, device="meta")).shape[-1]
    if value == truth:
        return verdict(True, "A stride-2 convolution halves the map, like pooling does, "
                             "but with learned weights.", hint)
    if not value.is_integer():
        return Feedback(False, "A map has a whole number of pixels: the division in the formula is rounded down.")
    if value == (n + 2 * p - k) + 1:
        return Feedback(False, "That is the size at stride 1. With stride s the kernel jumps s pixels at a time.")
    if value == math.floor((n - k) / s) + 1:
        return Feedback(False, "That leaves out the padding, which adds p pixels on each side.")
    return Feedback(False, hint)


def check_conv_params(answer: Any) -> Feedback:
    """Exercise 2: parameters of conv2 (16 filters, 5x5) if conv1 made 10 feature maps instead of 6."""
    hint = ("Each of the 16 filters covers every input channel with a 5x5 kernel and has one bias. "
            "Check yourself with `layer_summary(LeNetConfig(conv1_channels=10))`.")
    if answer is None:
        return unanswered(hint)
    value = as_number(answer)
    if value is None or not value.is_integer():
        return Feedback(False, "Give a whole number of parameters.")
    truth = _params(nn.Conv2d(10, 16, 5, device="meta"))
    if value == _params(nn.Conv2d(6, 16, 5, device="meta")):
        return Feedback(False, "That is the reference conv2, with 6 input channels. Here it gets 10.")
    if value == truth - 16:
        return Feedback(False, "Almost: you left out the biases, one per filter.")
    if value == 16 * 5 * 5 + 16:
        return Feedback(False, "Each filter is 5x5 on EVERY input channel, not on one.")
    return verdict(value == truth, "Right: conv2's parameters grow with the channels that feed it: "
                                   "out x (in x k x k) weights + out biases.", hint)


def check_collapsed_params(answer: Any) -> Feedback:
    """Exercise 3: parameters of the single Linear layer equivalent to fc1 -> fc2 -> fc3."""
    hint = ("The composed map takes the 400 flattened features straight to the 10 logits: "
            "one weight per (input, output) pair, plus a bias per output.")
    if answer is None:
        return unanswered(hint)
    value = as_number(answer)
    if value is None or not value.is_integer():
        return Feedback(False, "Give a whole number of parameters.")
    truth = _params(nn.Linear(400, 10, device="meta"))
    three = sum(_params(nn.Linear(i, o, device="meta")) for i, o in [(400, 120), (120, 84), (84, 10)])
    if value == truth - 10:
        return Feedback(False, "Almost: the composed map has a bias too (the biases of the three layers fold into it).")
    if value == three:
        return Feedback(False, "That is the three layers together. The single equivalent map is much smaller.")
    return verdict(value == truth, f"{truth:,} parameters compute exactly what the three layers' "
                                   f"{three:,} do: without activations, depth adds parameters, not capacity.", hint)


def _params(layer: nn.Module) -> int:
    return sum(p.numel() for p in layer.parameters())
