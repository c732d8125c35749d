"""Feedback for auto-checked exercises: a pass, or a hint that never gives the answer away.

**Tiered hints.** An exercise's hints come in order, a nudge first and the code last (:class:`Hints`).
A failed check shows one level: the first failed check of an exercise shows the nudge, each further
failed check of the same exercise (in the same kernel) the next level, up to the last. A learner who
wants a level now asks for it: ``hint(check_most_ink, 2)``, or ``feedback.hint(2)`` on any feedback.
A pass resets the count. The count lives in this module, one number per exercise, for the life of
the kernel (``reset_hints()`` clears it); nothing is written anywhere.

**Predict before you run.** :func:`prediction_feedback` checks a prediction the learner wrote down
*before* running an experiment against what the experiment measured (computed by the checker, never
typed in): the options are ranges or names, and the right one is the one the measurement falls in.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ... import palette


@dataclass(frozen=True)
class Feedback:
    passed: bool
    message: str
    hints: tuple[str, ...] = field(default=(), repr=False)   # the exercise's hints, nudge first, code last
    level: int = 0                                           # how many of them the learner has been shown
    reason: str = field(default="", repr=False)              # what was wrong, before the hint
    exercise: str = field(default="", repr=False)            # the checker's name, for hint(check, level)
    title: str = field(default="", repr=False)               # instead of "Correct!" / "Not yet. Hint:"

    def __bool__(self) -> bool:
        return self.passed

    def _title(self) -> str:
        return self.title or ("Correct!" if self.passed else "Not yet. Hint:")

    def __str__(self) -> str:
        return f"{self._title()} {self.message}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        color, title = (palette.OK if self.passed else palette.WARN), self._title()
        return (f"<div style='border-left:4px solid {color};padding:4px 8px'>"
                f"<b style='color:{color}'>{title}</b> {html.escape(self.message)}</div>")

    def hint(self, level: int) -> Feedback:
        """The same feedback showing hint ``level`` (1 = the nudge, the last = the code)."""
        if not self.hints:
            return self
        level = max(1, min(int(level), len(self.hints)))
        return Feedback(False, _compose(self.reason, self.hints, level, self.exercise), self.hints, level,
                        self.reason, self.exercise)


def _compose(reason: str, hints: tuple[str, ...], level: int, exercise: str) -> str:
    shown = hints[level - 1]
    if len(hints) == 1:
        return reason + shown
    if level == len(hints):
        return reason + shown + f" [hint {level} of {len(hints)}: the last]"
    return reason + shown + (f" [hint {level} of {len(hints)}: the next comes with your next try, "
                             f"or now with hint({exercise}, {level + 1})]")


_FAILED: dict[str, int] = {}                 # exercise name -> failed checks so far, in this kernel
_REGISTERED: dict[str, Hints] = {}           # exercise name -> its hints, for hint(check, level)


@dataclass(frozen=True)
class Hints:
    """One exercise's hints in order: a nudge first, then more specific, the code last."""

    exercise: str                  # the checker's name, e.g. "check_most_ink"
    levels: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.levels:
            raise ValueError(f"{self.exercise}: give at least one hint")
        _REGISTERED[self.exercise] = self

    def failed(self, reason: str = "") -> Feedback:
        """A failed check: counted, and shown with the next level of hint."""
        count = _FAILED[self.exercise] = _FAILED.get(self.exercise, 0) + 1
        return self.at(count, reason)

    def at(self, level: int, reason: str = "") -> Feedback:
        """Failed feedback showing hint ``level`` (clamped to 1..len), without counting a check."""
        level = max(1, min(int(level), len(self.levels)))
        return Feedback(False, _compose(reason, self.levels, level, self.exercise), self.levels, level, reason,
                        self.exercise)

    def passed(self, success: str) -> Feedback:
        """A pass: the count starts again (the next exercise of this name begins with the nudge)."""
        _FAILED.pop(self.exercise, None)
        return Feedback(True, success)


def hint(check: Callable[..., Any] | str, level: int = 1) -> Feedback:
    """Hint ``level`` of an exercise, by its checker (``hint(check_most_ink, 2)``) or its name."""
    name = check if isinstance(check, str) else getattr(check, "__name__", "")
    hints = _REGISTERED.get(name)
    if hints is None:
        known = ", ".join(sorted(_REGISTERED)) or "none yet"
        return Feedback(False, f"No tiered hints for {name or check!r}; exercises with them: {known}.")
    return hints.at(level)


def reset_hints() -> None:
    """Forget every failed check: each exercise's next hint is its nudge again."""
    _FAILED.clear()


def verdict(passed: bool, success: str, hint: str | Hints) -> Feedback:
    """``Feedback(passed, success if passed else hint)``; with :class:`Hints`, a failure shows the next level."""
    if isinstance(hint, Hints):
        return hint.passed(success) if passed else hint.failed()
    return Feedback(bool(passed), success if passed else hint)


# --- predict before you run ---------------------------------------------------------------------
PREDICT_FIRST = ("`prediction` is still None: write down what you expect ({options}) BEFORE running the "
                 "experiment, then run this check after it.")


def prediction_feedback(prediction: Any, options: Mapping[str, str], truth: str, measured: str,
                        why: str) -> Feedback:
    """A learner's prediction, one key of ``options`` (option -> what it says), against ``truth``, the
    option the measurement falls in; ``measured`` says what was measured, ``why`` explains it."""
    listing = ", ".join(f'"{key}"' if key == text else f'"{key}": {text}' for key, text in options.items())
    if prediction is None:
        return Feedback(False, PREDICT_FIRST.format(options=listing), title="Predict first:")
    key = str(prediction).strip().strip("()").lower() if isinstance(prediction, str) else None
    if key not in options:
        return Feedback(False, f"Predict with one of the options ({listing}); got {prediction!r}.",
                        title="Predict first:")
    if key == truth:
        return Feedback(True, f"you predicted {options[key]}, and the measurement says {measured}. {why}",
                        title="As predicted!")
    return Feedback(False, f"you predicted {options[key]}; the measurement says {measured}, that is "
                           f"\"{truth}\" ({options[truth]}). {why} (A wrong prediction is the useful kind: "
                           "it shows which intuition to update.)", title="Not as predicted:")


def option_for(value: float, ranges: Mapping[str, tuple[float, float]]) -> str:
    """The option whose half-open range ``[low, high)`` holds ``value``."""
    for key, (low, high) in ranges.items():
        if low <= value < high:
            return key
    raise ValueError(f"{value} lies in none of the ranges {dict(ranges)}")


def choices(items: Sequence[str]) -> dict[str, str]:
    """Options that are names (layers, digits): each one its own description."""
    return {item: item for item in items}


class kept_hint_counts:
    """``with kept_hint_counts(): ...``: checks made inside leave the learner's hint counts as they
    were (the grader's judge checks an answer without advancing anyone's hints)."""

    def __enter__(self) -> None:
        self._saved = dict(_FAILED)

    def __exit__(self, *exc: object) -> None:
        _FAILED.clear()
        _FAILED.update(self._saved)
