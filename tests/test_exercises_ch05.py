"""Exercise checkers of notebook 05: right answers pass, wrong ones fail with a hint."""

from __future__ import annotations

import numpy as np
import pytest

from lenet_utils.lessons.exercises import (
    Feedback,
    ch05_predict,
    check_box_size,
    check_centre_shift,
    check_is_dark_on_light,
)


# --- right answers (as in the solutions notebook) -------------------------------------------------
def box_size(width, height):
    scale = 20 / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def is_dark_on_light(grey):
    g = grey.astype(int)
    paper = np.median(np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]]))
    return bool(paper - g.min() > g.max() - paper)


def centre_shift(patch):
    mass = patch.astype(float)
    rows, cols = np.indices(patch.shape)
    return round(14 - (rows * mass).sum() / mass.sum()), round(14 - (cols * mass).sum() / mass.sum())


@pytest.mark.parametrize("check, right", [(check_box_size, box_size), (check_is_dark_on_light, is_dark_on_light),
                                          (check_centre_shift, centre_shift)])
def test_right_answers_pass(check, right):
    feedback = check(right)
    assert isinstance(feedback, Feedback) and feedback.passed, feedback
    assert str(feedback).startswith("Correct!")


def test_alternative_right_answers_pass():
    import math

    assert check_box_size(lambda w, h: (max(1, math.floor(w * 20 / max(w, h))), max(1, math.floor(h * 20 / max(w, h)))))
    assert check_centre_shift(lambda p: tuple(int(np.floor(14.5 - c)) for c in ch05_predict.centre_of_mass(p)))


@pytest.mark.parametrize("check", [check_box_size, check_is_dark_on_light, check_centre_shift])
def test_unanswered_and_non_functions_get_hints(check):
    assert not check(None) and "still None" in str(check(None))
    assert not check(42) and "function" in check(42).message
    assert not check(lambda *a: 1 / 0) and "ZeroDivisionError" in check(lambda *a: 1 / 0).message


# --- wrong answers fail, with a hint that does not give the solution away ---------------------------
@pytest.mark.parametrize("wrong, says", [
    (lambda w, h: (20, 20), "distorted"),                                     # squashed to a square
    (lambda w, h: (round(w * 20 / min(w, h)), round(h * 20 / min(w, h))), "longer side"),  # the shorter side to 20
    (lambda w, h: (round(w * 20 / max(w, h)), round(h * 20 / max(w, h))), "0 pixels"),     # a side can vanish
    (lambda w, h: (w * 20 / max(w, h), h * 20 / max(w, h)), "whole numbers"),  # floats
    (lambda w, h: [20], "two whole numbers"),
])
def test_wrong_box_sizes_fail(wrong, says):
    feedback = check_box_size(wrong)
    assert not feedback.passed and says in feedback.message, feedback


def test_mean_brightness_rule_fails_on_the_dim_photo():
    feedback = check_is_dark_on_light(lambda g: bool(g.mean() > 127))
    assert not feedback.passed and "dim light" in feedback.message
    assert not check_is_dark_on_light(lambda g: True)
    not_a_bool = check_is_dark_on_light(lambda g: "yes")
    assert not not_a_bool and "True or False" in not_a_bool.message


def test_centring_the_box_instead_of_the_mass_fails():
    feedback = check_centre_shift(lambda p: ((28 - p.shape[0]) // 2, (28 - p.shape[1]) // 2))
    assert not feedback.passed and "BOX" in feedback.message
    assert not check_centre_shift(lambda p: (30, 0)) and "outside" in check_centre_shift(lambda p: (30, 0)).message
    assert not check_centre_shift(lambda p: (4.5, 4.5))


def test_hints_never_contain_the_solution():
    for check in (check_box_size, check_is_dark_on_light, check_centre_shift):
        text = check(None).message
        assert "def " not in text and "return" not in text


def test_all_is_declared():
    assert set(ch05_predict.__all__) == {"check_box_size", "check_is_dark_on_light", "check_centre_shift"}
