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
from ._core import Feedback, Hints, option_for, prediction_feedback, verdict

__all__ = ["check_flatten_size", "check_largest_conv2_kernel", "check_indistinguishable", "check_small_variant",
           "check_predict_no_activation"]

# Exercise 1: the variant whose flatten size the student works out by hand.
FLATTEN_EXERCISE = LeNetConfig(conv1_kernel=3, conv1_padding="valid")
# Exercise 3: the variant whose look-alikes the student finds in the variants table.
INDISTINGUISHABLE_FROM = "tanh-1998"
# Exercise 4: the parameter budget for a variant that keeps the reference's feature maps.
SMALL_VARIANT_MAX_PARAMS = 20_000

# Tiered hints (see _core): a nudge first, the code last; each failed check shows the next level.
FLATTEN_HINTS = Hints("check_flatten_size", (
    "Follow the side of the map through each stage, starting from 28: which stages shrink it, and by how much?",
    "Follow the side of the map stage by stage: a convolution gives n + 2p - k + 1, a 2x2 pooling "
    "halves it (rounding down). Flatten is channels x side x side.",
    "`side = ((28 - 3 + 1) // 2 - 5 + 1) // 2`, then `answer = 16 * side * side`; or read it off "
    "`LeNetConfig(conv1_kernel=3, conv1_padding=\"valid\").feature_sizes()`",
))
LARGEST_KERNEL_HINTS = Hints("check_largest_conv2_kernel", (
    "How large is the map conv2 slides over in the reference network, and what has to come out of it?",
    "What is the side of conv2's input, and how small may conv2's output get before the 2x2 pooling "
    "after it has nothing to pool? Try your kernel with LeNetConfig(conv2_kernel=...).",
    "conv2's output side is `14 - k + 1` and must be at least 2: `answer = 14 - 2 + 1`; check it with "
    "`LeNetConfig(conv2_kernel=answer)` and `LeNetConfig(conv2_kernel=answer + 1)`",
))
INDISTINGUISHABLE_HINTS = Hints("check_indistinguishable", (
    f"Look at the 'seed range' column: which rows share some accuracies with the {INDISTINGUISHABLE_FROM} row?",
    f"Compare each row's 'seed range' with the {INDISTINGUISHABLE_FROM} row's: two ranges overlap when "
    "each one starts below the other's end. Leave out the row itself.",
    f"`t = table[\"{INDISTINGUISHABLE_FROM}\"]`, then `answer = [r.name for r in table if r.name != t.name and "
    "min(r.accs) <= max(t.accs) and min(t.accs) <= max(r.accs)]`",
))
SMALL_VARIANT_HINTS = Hints("check_small_variant", (
    "Look at the layer table's params column: which layer holds most of the parameters, and which "
    "settings decide its size?",
    "fc1 holds most of them: its inputs (the flattened conv2 maps) times its width. Keep the channels and "
    "make the hidden Linear layers narrower, or fewer.",
    "`answer = LeNetConfig(fc_widths=(32,))`, then read `layer_summary(answer).total_params`",
))


def _whole(answer: Any, what: str) -> tuple[int | None, Feedback | None]:
    value = as_number(answer)
    if value is None or not value.is_integer():
        return None, Feedback(False, f"Give {what}: one whole number.")
    return int(value), None


def check_flatten_size(answer: Any) -> Feedback:
    """Exercise 1: how many numbers reach fc1 when conv1 is 3x3 with no padding (all else reference)?"""
    hint = FLATTEN_HINTS
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
        return hint.failed("That is the reference network's flatten size; here conv1 is 3x3 without "
                           "padding. ")
    if value % FLATTEN_EXERCISE.conv2_channels != 0:
        return hint.failed(f"Flatten is conv2's {FLATTEN_EXERCISE.conv2_channels} channels times the final "
                           "side squared, and your number is not a multiple of the channel count. ")
    return hint.failed()


def check_largest_conv2_kernel(answer: Any) -> Feedback:
    """Exercise 2: the largest ``conv2_kernel`` the reference network still accepts."""
    hint = LARGEST_KERNEL_HINTS
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
        return hint.failed(f"conv2_kernel={value} builds, and so does a larger kernel. ")
    return verdict(True, "conv2 sees a 14x14 map, and its output must still fill one 2x2 pooling window. "
                         "The lab's message says the same when you go one larger.", hint)


def check_indistinguishable(answer: Any, table: VariantTable | None = None) -> Feedback:
    """Exercise 3: the variants whose seed range in the variants table overlaps tanh-1998's
    (``INDISTINGUISHABLE_FROM``): on three seeds, the table cannot tell them apart from it."""
    hint = INDISTINGUISHABLE_HINTS
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
        return hint.failed(f"At least one variant you listed has a seed range entirely above or below "
                           f"{INDISTINGUISHABLE_FROM}'s. ")
    return hint.failed("You missed at least one variant whose range overlaps. ")


def check_small_variant(answer: Any) -> Feedback:
    """Exercise 4: a ``LeNetConfig`` with at most 20,000 parameters that keeps at least the reference's
    feature maps (conv1 >= 6 channels, conv2 >= 16 channels). Many answers pass."""
    hint = SMALL_VARIANT_HINTS
    if answer is None:
        return unanswered(hint)
    if not isinstance(answer, LeNetConfig):
        return Feedback(False, f"Give a LeNetConfig, e.g. LeNetConfig(...) with your changes; you gave a "
                               f"{type(answer).__name__}.")
    ref = LeNetConfig()
    if answer.conv1_channels < ref.conv1_channels or answer.conv2_channels < ref.conv2_channels:
        return hint.failed(f"Keep at least {ref.conv1_channels} conv1 and {ref.conv2_channels} conv2 channels: "
                           "find the parameters somewhere else. ")
    params = layer_summary(answer).total_params
    if params <= SMALL_VARIANT_MAX_PARAMS:
        return verdict(True, f"{params:,} parameters, with every feature map kept. The convolutions were never "
                             "the expensive part. Train it in the lab to see what the savings cost.", hint)
    return hint.failed(f"It has {params:,} parameters, more than {SMALL_VARIANT_MAX_PARAMS:,}. ")


def _builds(**settings) -> bool:
    try:
        LeNetConfig(**settings)
    except ConfigError:
        return False
    return True


# --- predict before you run: a network without a non-linearity ---------------------------------
NO_ACTIVATION = "no-activation"   # the variants table's row the prediction is about
NO_ACTIVATION_OPTIONS = {"a": "under 50% (it barely learns)", "b": "50% to 85%", "c": "85% to 95%",
                         "d": "95% or more (close to the reference)"}
NO_ACTIVATION_RANGES = {"a": (0.0, 0.5), "b": (0.5, 0.85), "c": (0.85, 0.95), "d": (0.95, 1.01)}


def check_predict_no_activation(prediction: Any, table: VariantTable | None = None) -> Feedback:
    """Predict before you run: the validation accuracy of LeNet-5 with no activation at all
    (``activation="none"``), on the variants table's budget. ``prediction``: one of "a"-"d"
    (NO_ACTIVATION_OPTIONS). The truth is the committed table's measurement (mean of its seeds)."""
    try:
        table = table or load_variant_table()
    except RunFileError as err:
        return Feedback(False, f"The variants table could not be read ({err}).")
    row, ref = table[NO_ACTIVATION], table.reference
    return prediction_feedback(
        prediction, NO_ACTIVATION_OPTIONS, option_for(row.mean_acc, NO_ACTIVATION_RANGES),
        f"{row.mean_acc:.2%} (mean of {len(row.accs)} seeds; the reference {ref.mean_acc:.2%})",
        "Without a non-linearity, the convolutions, the average pooling and the Linear layers compose into one "
        "linear map of the pixels: a linear classifier, however many layers it is written as. That still reads "
        "most digits, but every layer on top of the first adds nothing it could not do alone.")
