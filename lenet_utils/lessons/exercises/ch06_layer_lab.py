"""Exercise checkers for notebook 06, the layer lab.

Each ``check_...(answer)`` returns a :class:`Feedback`: a pass, or a hint that points at the
reasoning without giving the answer away. The expected answers are computed from the package
(``LeNetConfig``, ``layer_summary``, the committed variants table), never typed in here, so they
cannot drift from what the notebook shows.
"""

from __future__ import annotations

from typing import Any

from ...config import ConfigError, LeNetConfig
from ...summary import layer_summary
from ..experiments import RunFileError, VariantTable, load_variant_table
from ._answers import as_number, unanswered
from ._core import Feedback, verdict

__all__ = ["check_flatten_size", "check_largest_conv2_kernel", "check_indistinguishable", "check_small_variant"]

# Exercise 1: the variant whose flatten size the student works out by hand.
FLATTEN_EXERCISE = LeNetConfig(conv1_kernel=3, conv1_padding="valid")
# Exercise 3: the variant whose look-alikes the student finds in the variants table.
INDISTINGUISHABLE_FROM = "tanh-1998"
# Exercise 4: the parameter budget for a variant that keeps the reference's feature maps.
SMALL_VARIANT_MAX_PARAMS = 20_000


def _whole(answer: Any, what: str) -> tuple[int | None, Feedback | None]:
    value = as_number(answer)
    if value is None or not value.is_integer():
        return None, Feedback(False, f"Give {what}: one whole number.")
    return int(value), None


def check_flatten_size(answer: Any) -> Feedback:
    """Exercise 1: how many numbers reach fc1 when conv1 is 3x3 with no padding (all else reference)?"""
    hint = ("Follow the side of the map stage by stage: a convolution gives n + 2p - k + 1, a 2x2 pooling "
            "halves it (rounding down). Flatten is channels x side x side.")
    if answer is None:
        return unanswered(hint)
    value, bad = _whole(answer, "the number of features")
    if bad is not None:
        return bad
    expected = FLATTEN_EXERCISE.feature_sizes()["flatten"]
    if value == expected:
        return verdict(True, "every stage shrinks the map a little more, and fc1's input shrinks with its square: "
                             "the kernel sizes decide fc1's size.", hint)
    if value == LeNetConfig().feature_sizes()["flatten"]:
        return Feedback(False, "That is the reference network's flatten size; here conv1 is 3x3 without "
                               "padding. " + hint)
    if value % FLATTEN_EXERCISE.conv2_channels != 0:
        return Feedback(False, f"Flatten is conv2's {FLATTEN_EXERCISE.conv2_channels} channels times the final "
                               "side squared, and your number is not a multiple of the channel count. " + hint)
    return Feedback(False, hint)


def check_largest_conv2_kernel(answer: Any) -> Feedback:
    """Exercise 2: the largest ``conv2_kernel`` the reference network still accepts."""
    hint = ("What is the side of conv2's input, and how small may conv2's output get before the 2x2 pooling "
            "after it has nothing to pool? Try your kernel with LeNetConfig(conv2_kernel=...).")
    if answer is None:
        return unanswered(hint)
    value, bad = _whole(answer, "a kernel side")
    if bad is not None:
        return bad
    if value < 1:
        return Feedback(False, "A kernel has at least one pixel per side.")
    if not _builds(conv2_kernel=value):
        return Feedback(False, f"LeNetConfig(conv2_kernel={value}) cannot be built: create it and read the error "
                               "message, then go smaller.")
    if _builds(conv2_kernel=value + 1):
        return Feedback(False, f"conv2_kernel={value} builds, and so does a larger kernel. " + hint)
    return verdict(True, "conv2 sees a 14x14 map, and its output must still fill one 2x2 pooling window. "
                         "The lab's message says the same when you go one larger.", hint)


def check_indistinguishable(answer: Any, table: VariantTable | None = None) -> Feedback:
    """Exercise 3: the variants whose seed range in the variants table overlaps tanh-1998's
    (``INDISTINGUISHABLE_FROM``): on three seeds, the table cannot tell them apart from it."""
    hint = (f"Compare each row's 'seed range' with the {INDISTINGUISHABLE_FROM} row's: two ranges overlap when "
            "each one starts below the other's end. Leave out the row itself.")
    if answer is None:
        return unanswered(hint)
    if isinstance(answer, str) or not isinstance(answer, (list, tuple, set, frozenset)):
        return Feedback(False, "Give a list of variant names, e.g. ['name-one', 'name-two'] (or [] for none).")
    if not all(isinstance(a, str) for a in answer):
        return Feedback(False, "Give the variants by name, as strings from the table's 'variant' column.")
    try:
        table = table or load_variant_table()
    except RunFileError as err:
        return Feedback(False, f"The variants table could not be read ({err}).")
    names = {r.name for r in table}
    unknown = sorted(set(answer) - names)
    if unknown:
        return Feedback(False, f"{', '.join(map(repr, unknown))} is not in the table; copy names from its "
                               "'variant' column.")
    if INDISTINGUISHABLE_FROM in answer:
        return Feedback(False, f"Leave {INDISTINGUISHABLE_FROM} itself out: the question is about the others.")
    truth = set(table.overlapping(INDISTINGUISHABLE_FROM))
    given = set(answer)
    if given == truth:
        return verdict(True, "a difference smaller than the seed-to-seed spread is not a finding yet: more seeds, "
                             "or a longer budget, would be needed to rank these.", hint)
    if given - truth:
        return Feedback(False, f"At least one variant you listed has a seed range entirely above or below "
                               f"{INDISTINGUISHABLE_FROM}'s. " + hint)
    return Feedback(False, "You missed at least one variant whose range overlaps. " + hint)


def check_small_variant(answer: Any) -> Feedback:
    """Exercise 4: a ``LeNetConfig`` with at most 20,000 parameters that keeps at least the reference's
    feature maps (conv1 >= 6 channels, conv2 >= 16 channels). Many answers pass."""
    hint = ("Look at the layer table's params column: which layer holds most of the parameters, and which "
            "settings decide its size?")
    if answer is None:
        return unanswered(hint)
    if not isinstance(answer, LeNetConfig):
        return Feedback(False, f"Give a LeNetConfig, e.g. LeNetConfig(...) with your changes; you gave a "
                               f"{type(answer).__name__}.")
    ref = LeNetConfig()
    if answer.conv1_channels < ref.conv1_channels or answer.conv2_channels < ref.conv2_channels:
        return Feedback(False, f"Keep at least {ref.conv1_channels} conv1 and {ref.conv2_channels} conv2 channels: "
                               "find the parameters somewhere else. " + hint)
    params = layer_summary(answer).total_params
    if params <= SMALL_VARIANT_MAX_PARAMS:
        return verdict(True, f"{params:,} parameters, with every feature map kept. The convolutions were never "
                             "the expensive part. Train it in the lab to see what the savings cost.", hint)
    return Feedback(False, f"It has {params:,} parameters, more than {SMALL_VARIANT_MAX_PARAMS:,}. " + hint)


def _builds(**settings) -> bool:
    try:
        LeNetConfig(**settings)
    except ConfigError:
        return False
    return True
