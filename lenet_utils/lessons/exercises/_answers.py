"""Reading a learner's answer: a number or a pair of numbers, whatever type it arrived as.

A checker first turns the answer into plain floats; anything it cannot read gets a hint about
the *form* of the answer (never its value), so a wrong type never ends in a traceback.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

from ._core import Feedback, Hints

NOT_ANSWERED = "`answer` is still None: replace None with your answer and run the cell again. "


def unanswered(hint: str | Hints) -> Feedback:
    """The feedback for ``answer = None``: how to answer, then the exercise's hint (with tiered
    :class:`Hints`, a failed check like any other: the first shows the nudge)."""
    if isinstance(hint, Hints):
        return hint.failed(NOT_ANSWERED)
    return Feedback(False, NOT_ANSWERED + hint)


def as_number(answer: Any) -> float | None:
    """A finite float from an int, float, NumPy scalar or one-element tensor; ``None`` otherwise."""
    if isinstance(answer, bool) or answer is None:
        return None
    if hasattr(answer, "numel") and hasattr(answer, "item"):  # torch tensor
        if answer.numel() != 1:
            return None
        answer = answer.item()
    elif hasattr(answer, "item") and getattr(answer, "size", None) == 1:  # NumPy scalar or array
        answer = answer.item()
    if not isinstance(answer, Real) or isinstance(answer, bool):
        return None
    value = float(answer)
    return value if math.isfinite(value) else None


def as_pair(answer: Any) -> tuple[float, float] | None:
    """Two finite floats from a tuple or list of two numbers; ``None`` otherwise."""
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return None
    first, second = as_number(answer[0]), as_number(answer[1])
    if first is None or second is None:
        return None
    return first, second


def close(value: float, target: float, tol: float) -> bool:
    """``|value - target| <= tol``: answers may be rounded to a few decimals."""
    return abs(value - target) <= tol
