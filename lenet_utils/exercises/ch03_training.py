"""Exercise checkers for notebook 03."""

from ._core import Feedback, verdict  # noqa: F401

__all__: list[str] = []
