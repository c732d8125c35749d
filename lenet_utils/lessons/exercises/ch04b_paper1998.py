"""Exercise checkers for notebook 04b, the 1998 network.

The right answers are computed from ``lenet_utils.paper1998`` (its Table I, its SDLM), never typed in here.
"""

from __future__ import annotations

from typing import Any

import torch

from ...paper1998.model import C3_TABLE, LeNet5Paper
from ...paper1998.sdlm import SDLM
from ._answers import as_number, close, unanswered
from ._core import Feedback, verdict

__all__ = ["EXERCISE_CURVATURE", "check_c3_parameters", "check_sdlm_rate"]

# Exercise 2: a parameter's curvature estimate h, and the pass (0-based) whose eta applies.
EXERCISE_CURVATURE = 0.48
EXERCISE_PASS = 3


def check_c3_parameters(answer: Any) -> Feedback:
    """Exercise 1: how many more parameters would C3 have if every C3 map read all six S2 maps?"""
    hint = ("Each connection (a C3 map reading one S2 map) is one 5x5 kernel. Count the kernels of a full "
            "layer (16 x 6) and those of Table I (len of each row of C3_TABLE, summed); biases do not change.")
    if answer is None:
        return unanswered(hint)
    value = as_number(answer)
    if value is None:
        return Feedback(False, "Give one number: the extra parameters.")
    table = sum(len(ins) for ins in C3_TABLE)
    extra = (16 * 6 - table) * 25
    c3 = sum(p.numel() for p in LeNet5Paper().c3.parameters())
    if close(value, extra, 0.5):
        return verdict(True, f"{extra:,} more: {c3 + extra:,} instead of {c3:,}. The table saved parameters "
                             "and, the paper says, broke the symmetry: different maps see different inputs.", hint)
    if close(value, c3 + extra, 0.5):
        return Feedback(False, "That is the full layer's total; the question asks for the difference.")
    if close(value, 16 * 6 - table, 0.5):
        return Feedback(False, "That many kernels; each holds 5 x 5 weights.")
    return Feedback(False, hint)


def check_sdlm_rate(answer: Any) -> Feedback:
    """Exercise 2: SDLM's learning rate for a parameter with curvature :data:`EXERCISE_CURVATURE`
    during pass :data:`EXERCISE_PASS` (counted from 0), with the paper's schedule and mu."""
    from ...paper1998.sdlm import MU, eta_for_pass

    hint = ("eps = eta / (mu + h): eta from the schedule (eta_for_pass, or the paper's list: 2 passes at "
            "0.0005, 3 at 0.0002, ...), mu = 0.02.")
    if answer is None:
        return unanswered(hint)
    value = as_number(answer)
    if value is None:
        return Feedback(False, "Give one number: the learning rate.")
    w = torch.nn.Parameter(torch.zeros(1))
    opt = SDLM([w], eta=eta_for_pass(EXERCISE_PASS), mu=MU)
    opt.set_curvature({w: torch.tensor([EXERCISE_CURVATURE])})
    truth = float(opt.learning_rates()[w])
    if close(value, truth, truth * 0.01):
        return verdict(True, f"{truth:.6f}: {truth / eta_for_pass(EXERCISE_PASS):.2f} times eta. A strongly curved "
                             "direction gets a small step; a flat one up to eta/mu = 50 times eta.", hint)
    if close(value, eta_for_pass(EXERCISE_PASS) / EXERCISE_CURVATURE, truth * 0.05):
        return Feedback(False, "Close: mu is part of the denominator too (it keeps flat directions finite).")
    return Feedback(False, hint)
