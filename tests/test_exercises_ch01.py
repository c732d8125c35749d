"""Notebook 01's exercise checkers: right answers pass, wrong ones get a hint that does not give it away.

The expected figures are MNIST's published class counts and pixel statistics, typed in here so that
the checkers (which compute them from the data) are checked against an independent source.
"""

import numpy as np
import pytest
import torch

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
