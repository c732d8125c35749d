"""Notebook 06's exercise checkers: right answers pass, wrong ones fail with a hint that never
contains the answer."""

import numpy as np
import pytest
import torch
from hint_tiers import assert_hints_escalate

import lenet_utils.lessons.exercises as ex
from lenet_utils.config import ConfigError, LeNetConfig
from lenet_utils.lessons.exercises import (
    Feedback,
    check_flatten_size,
    check_indistinguishable,
    check_largest_conv2_kernel,
    check_small_variant,
)
from lenet_utils.lessons.exercises import ch06_layer_lab as ch06
from lenet_utils.lessons.exercises.ch06_layer_lab import INDISTINGUISHABLE_FROM
from lenet_utils.lessons.experiments import VariantResult, VariantTable, load_variant_table
from lenet_utils.summary import layer_summary

FLATTEN = 16 * 4 * 4   # 28 -3+1-> 26 -pool-> 13 -5+1-> 9 -pool-> 4; 16 channels
LARGEST_KERNEL = 13    # 14x14 input: a 13x13 kernel leaves 2x2, one pooling window


def fails_without_giving_away(feedback: Feedback, answer) -> None:
    assert isinstance(feedback, Feedback) and not feedback.passed
    assert feedback.message and str(answer) not in feedback.message


def test_the_module_exports_its_checkers():
    assert set(ch06.__all__) == {"check_flatten_size", "check_largest_conv2_kernel", "check_indistinguishable",
                                 "check_small_variant", "check_predict_no_activation"}
    for name in ch06.__all__:
        assert getattr(ex, name) is getattr(ch06, name)


def test_the_package_exports_every_chapters_checkers():
    """lenet_utils.lessons.exercises names each chapter's exports one by one: none is forgotten there."""
    import importlib
    import pkgutil

    chapters = sorted(m.name for m in pkgutil.iter_modules(ex.__path__) if m.name.startswith("ch"))
    assert chapters == ["ch01_data", "ch02_architecture", "ch02b_backprop", "ch03_training", "ch03b_generalisation",
                        "ch04_evaluation", "ch04b_paper1998", "ch05_predict", "ch06_layer_lab",
                        "ch07_gallery"], chapters
    exported = {"Feedback", "verdict", "Hints", "hint", "reset_hints"}
    for chapter in chapters:
        module = importlib.import_module(f"lenet_utils.lessons.exercises.{chapter}")
        exported |= set(module.__all__)
        assert all(getattr(ex, name) is getattr(module, name) for name in module.__all__), chapter
    assert set(ex.__all__) == exported


def test_the_hand_worked_answers_agree_with_the_package():
    assert LeNetConfig(conv1_kernel=3, conv1_padding="valid").feature_sizes()["flatten"] == FLATTEN
    LeNetConfig(conv2_kernel=LARGEST_KERNEL)
    with pytest.raises(ConfigError, match="conv2_kernel"):
        LeNetConfig(conv2_kernel=LARGEST_KERNEL + 1)


@pytest.mark.parametrize("answer", [FLATTEN, float(FLATTEN), np.int64(FLATTEN), torch.tensor(FLATTEN)])
def test_flatten_size_passes_the_right_answer_in_any_number_type(answer):
    assert check_flatten_size(answer).passed


@pytest.mark.parametrize("answer, says", [
    (400, "reference network's flatten size"),
    (250, "not a multiple of the channel count"),
    (16 * 5 * 5 * 2, "Follow the side"),
    ("256", "one whole number"),
    (256.5, "one whole number"),
    (None, "replace None"),
])
def test_flatten_size_wrong_answers_get_hints(answer, says):
    feedback = check_flatten_size(answer)
    fails_without_giving_away(feedback, FLATTEN)
    assert says in feedback.message


def test_largest_conv2_kernel():
    assert check_largest_conv2_kernel(LARGEST_KERNEL).passed
    assert check_largest_conv2_kernel(np.int32(LARGEST_KERNEL)).passed
    for wrong, says in [(14, "cannot be built"), (15, "cannot be built"), (5, "so does a larger kernel"),
                        (0, "at least one pixel"), (None, "replace None"), ("13", "whole number")]:
        feedback = check_largest_conv2_kernel(wrong)
        fails_without_giving_away(feedback, LARGEST_KERNEL)
        assert says in feedback.message


def small_table() -> VariantTable:
    def row(name, cfg, accs):
        return VariantResult(name, "", cfg, layer_summary(cfg).total_params, 0, accs, [1.0] * len(accs))

    return VariantTable([row("reference", LeNetConfig(), [0.97, 0.98]),
                         row(INDISTINGUISHABLE_FROM, LeNetConfig(activation="tanh", fc_activation="tanh"),
                             [0.95, 0.96]),
                         row("above", LeNetConfig(pool="max"), [0.955, 0.97]),     # overlaps from above
                         row("below", LeNetConfig(activation="none"), [0.90, 0.95]),  # touches at 0.95: overlaps
                         row("apart", LeNetConfig(activation="sigmoid"), [0.90, 0.94])], 235, 128, [0, 1])


def test_indistinguishable_on_a_known_table():
    table = small_table()
    assert table.overlapping(INDISTINGUISHABLE_FROM) == ["above", "below"]
    assert check_indistinguishable(["above", "below"], table).passed
    assert check_indistinguishable(("below", "above"), table).passed  # any order, any sequence
    for wrong, says in [(["above"], "missed at least one"), (["above", "below", "apart"], "entirely above or below"),
                        (["above", "below", "reference"], "entirely above or below"),
                        ([INDISTINGUISHABLE_FROM, "above", "below"], "Leave tanh-1998 itself out"),
                        (["nope"], "not in the table"), ("above", "list of variant names"), ([1, 2], "by name"),
                        (None, "replace None")]:
        feedback = check_indistinguishable(wrong, table)
        assert not feedback.passed and says in feedback.message, (wrong, feedback)
        assert "'above'" not in feedback.message and "'below'" not in feedback.message  # names not given away


def test_indistinguishable_on_the_committed_table():
    table = load_variant_table()
    truth = table.overlapping(INDISTINGUISHABLE_FROM)
    assert truth, "the exercise needs at least one look-alike in the committed table"
    assert check_indistinguishable(list(truth)).passed
    assert not check_indistinguishable(truth[1:]).passed
    others = [r.name for r in table if r.name not in truth and r.name != INDISTINGUISHABLE_FROM]
    assert not check_indistinguishable(list(truth) + others[:1]).passed


def test_small_variant_accepts_any_config_under_the_budget():
    assert check_small_variant(LeNetConfig(fc_widths=(32,))).passed
    assert check_small_variant(LeNetConfig(fc_widths=())).passed
    assert check_small_variant(LeNetConfig(conv1_channels=8, fc_widths=(16, 16))).passed


@pytest.mark.parametrize("answer, says", [
    (LeNetConfig(), "more than 20,000"),
    (LeNetConfig(conv1_channels=3, conv2_channels=8, fc_widths=(8,)), "Keep at least 6 conv1 and 16 conv2"),
    ({"fc_widths": (32,)}, "Give a LeNetConfig"),
    (None, "replace None"),
])
def test_small_variant_wrong_answers_get_hints(answer, says):
    feedback = check_small_variant(answer)
    assert not feedback.passed and says in feedback.message
    assert "fc_widths" not in feedback.message  # the hint points at the table, not at the setting to change


# --- tiered hints: a nudge first, the code last --------------------------------------------------
@pytest.fixture(autouse=True)
def _fresh_hints():
    ex.reset_hints()
    yield
    ex.reset_hints()


@pytest.mark.parametrize("check, hints, wrong", [
    (check_flatten_size, ch06.FLATTEN_HINTS, 800),
    (check_largest_conv2_kernel, ch06.LARGEST_KERNEL_HINTS, 5),
    (check_indistinguishable, ch06.INDISTINGUISHABLE_HINTS, ["max-pool"]),
    (check_small_variant, ch06.SMALL_VARIANT_HINTS, LeNetConfig()),
])
def test_each_failed_check_reveals_the_next_hint_and_the_code_comes_last(check, hints, wrong):
    assert_hints_escalate(check, hints, wrong)


def test_the_code_hints_give_the_answers_they_promise():
    side = ((28 - 3 + 1) // 2 - 5 + 1) // 2
    assert check_flatten_size(16 * side * side) and check_largest_conv2_kernel(14 - 2 + 1)
    assert check_small_variant(LeNetConfig(fc_widths=(32,)))


# --- predict before you run: no activation ------------------------------------------------------
def test_no_activation_prediction_is_judged_by_the_table():
    table = load_variant_table()
    row = table["no-activation"]
    assert 0.85 <= row.mean_acc < 0.95                         # option "c"
    right = ex.check_predict_no_activation("c")
    assert right and f"{row.mean_acc:.2%}" in right.message and right.title == "As predicted!"
    wrong = ex.check_predict_no_activation("d")
    assert not wrong and '"c"' in wrong.message
    assert "BEFORE" in ex.check_predict_no_activation(None).message
    assert "one of the options" in ex.check_predict_no_activation("z").message


def test_no_activation_prediction_follows_the_table_it_is_given():
    table = load_variant_table()
    rows = [VariantResult(r.name, r.why, r.config, r.params, r.macs,
                          [0.97, 0.97, 0.97] if r.name == "no-activation" else r.accs, r.seconds)
            for r in table]
    other = VariantTable(rows, table.steps, table.batch_size, table.seeds, table.meta)
    assert ex.check_predict_no_activation("d", other) and not ex.check_predict_no_activation("c", other)
