"""Feedback for auto-checked exercises: a pass, or a hint that never gives the solution away."""

from __future__ import annotations

import html
from dataclasses import dataclass

from ... import palette


@dataclass(frozen=True)
class Feedback:
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return ("Correct! " if self.passed else "Not yet. Hint: ") + self.message

    __repr__ = __str__

    def _repr_html_(self) -> str:
        color, title = (palette.OK, "Correct!") if self.passed else (palette.WARN, "Not yet. Hint:")
        return (f"<div style='border-left:4px solid {color};padding:4px 8px'>"
                f"<b style='color:{color}'>{title}</b> {html.escape(self.message)}</div>")


def verdict(passed: bool, success: str, hint: str) -> Feedback:
    """``Feedback(passed, success if passed else hint)``."""
    return Feedback(bool(passed), success if passed else hint)
