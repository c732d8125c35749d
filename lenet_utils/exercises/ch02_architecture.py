"""Exercise checkers for notebook 02."""

from ._core import Feedback, verdict  # noqa: F401

__all__: list[str] = []
