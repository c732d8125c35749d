"""The tiered-hints contract every exercise keeps, checked the same way for each lesson's checkers."""

from __future__ import annotations


def assert_hints_escalate(check, hints, wrong) -> None:
    """Unanswered shows the nudge (no code); each further failure the next level; the last is the code.
    Call with the hint counts reset (the test files' autouse ``_fresh_hints`` fixture)."""
    levels = hints.levels
    assert len(levels) == 3 and "`" not in levels[0]              # the nudge shows no code
    first = check(None)
    assert first.level == 1 and levels[0] in first.message
    assert not any(level in first.message for level in levels[1:])
    second, third, fourth = check(wrong), check(wrong), check(wrong)
    assert (second.level, third.level, fourth.level) == (2, 3, 3)
    assert levels[1] in second.message and levels[2] in third.message and "the last" in third.message
    assert "`" in levels[2]                                      # the last level is the code
