"""Notebook 01's exercise checkers: right answers pass, wrong ones get a hint that does not give it away.

The expected figures are MNIST's published class counts and pixel statistics, typed in here so that
the checkers (which compute them from the data) are checked against an independent source.
"""

import numpy as np
import pytest
import torch
from hint_tiers import assert_hints_escalate

from lenet_utils.lessons.exercises import Feedback, check_blank_fraction, check_most_ink, check_normalized_pixel

pytestmark = pytest.mark.mnist


@pytest.fixture(autouse=True)
def _mnist(mnist_train):  # fails (never skips) when MNIST is missing
    return mnist_train


def _fails_without_giving_away(feedback, *answers):
    assert isinstance(feedback, Feedback) and not feedback
    for answer in answers:
        assert answer not in feedback.message


@pytest.mark.parametrize("answer", [0, 0.0, torch.tensor(0), np.int64(0)])
def test_most_ink_accepts_the_digit_in_any_numeric_type(answer):
    assert check_most_ink(answer)


@pytest.mark.parametrize("answer, says", [(1, "LEAST"), (8, "one digit averages more"), (10, "0 to 9"),
                                          (2.5, "0 to 9"), ("0", "0 to 9"), (True, "0 to 9")])
def test_most_ink_wrong_answers_get_a_hint(answer, says):
    feedback = check_most_ink(answer)
    assert not feedback and says in feedback.message


def test_blank_fraction():
    assert check_blank_fraction(0.8088)
    assert check_blank_fraction(torch.tensor(0.80880, dtype=torch.float64))
    feedback = check_blank_fraction(1 - 0.8088)
    assert not feedback and "some ink" in feedback.message
    assert "between 0 and 1" in check_blank_fraction(47_000_000).message
    _fails_without_giving_away(check_blank_fraction(0.7), "0.80", "0.81")


def test_normalized_pixel():
    # (128 / 255 - 0.1307) / 0.3081
    assert check_normalized_pixel(1.2050)
    assert check_normalized_pixel(torch.tensor(1.2050))
    assert "scaled to [0, 1]" in check_normalized_pixel(0.502).message
    assert "not 0-255" in check_normalized_pixel(415.0).message
    _fails_without_giving_away(check_normalized_pixel(-0.4242), "1.20", "1.21")


@pytest.mark.parametrize("check", [check_most_ink, check_blank_fraction, check_normalized_pixel])
def test_unanswered_says_how_to_answer(check):
    feedback = check(None)
    assert not feedback and "still None" in feedback.message
    assert feedback._repr_html_().startswith("<div")


# --- tiered hints: a nudge first, the code last --------------------------------------------------
from lenet_utils.lessons.exercises import check_predict_nearest_mean, hint, reset_hints  # noqa: E402
from lenet_utils.lessons.exercises.ch01_data import BLANK_HINTS, MOST_INK_HINTS, NORMALIZED_HINTS  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_hints():
    reset_hints()
    yield
    reset_hints()


@pytest.mark.parametrize("check, hints, wrong", [(check_most_ink, MOST_INK_HINTS, 8),
                                                 (check_blank_fraction, BLANK_HINTS, 0.7),
                                                 (check_normalized_pixel, NORMALIZED_HINTS, -0.4242)])
def test_each_failed_check_reveals_the_next_hint_and_the_code_comes_last(check, hints, wrong):
    assert_hints_escalate(check, hints, wrong)


def test_a_level_on_request_and_a_pass_starts_again():
    assert check_most_ink(None).level == 1
    asked = hint(check_most_ink, 3)
    assert not asked and asked.level == 3 and MOST_INK_HINTS.levels[2] in asked.message
    assert check_most_ink(None).hint(2).level == 2                # on the feedback itself
    assert "hint 3 of 3" in check_most_ink(None).message          # the third failed check: the last level
    assert check_most_ink(0)                                     # a pass resets the tally
    assert check_most_ink(None).level == 1
    assert "No tiered hints" in hint("check_nothing").message


def test_the_code_hint_computes_the_answer():
    """Level 3 is code a learner can run: run here, it gives what the checker accepts."""
    from lenet_utils import MNIST_MEAN, MNIST_STD, load_mnist
    train = load_mnist("train_full")
    assert check_blank_fraction(((train.pixels == 0).sum() / train.pixels.numel()).item())
    assert check_normalized_pixel((128 / 255 - MNIST_MEAN) / MNIST_STD)
    ink = [train.pixels[train.labels == d].float().mean() for d in range(10)]
    assert check_most_ink(torch.stack(ink).argmax())


# --- predict before you run -------------------------------------------------------------------------


def test_nearest_mean_prediction_is_judged_by_the_measurement():
    """The nearest-mean classifier reads 82.0% of the test digits (notebook 01): option "c", 60-90%."""
    assert check_predict_nearest_mean("c") and check_predict_nearest_mean("(C)")
    wrong = check_predict_nearest_mean("d")
    assert not wrong and "82.0%" in wrong.message and '"c"' in wrong.message
    assert "BEFORE" in check_predict_nearest_mean(None).message
    assert "one of the options" in check_predict_nearest_mean("e").message
    assert "one of the options" in check_predict_nearest_mean(3).message


def test_a_prediction_is_titled_as_one():
    assert str(check_predict_nearest_mean(None)).startswith("Predict first:")
    assert str(check_predict_nearest_mean("c")).startswith("As predicted!")
    wrong = check_predict_nearest_mean("a")
    assert str(wrong).startswith("Not as predicted:") and "Not as predicted:" in wrong._repr_html_()
