"""Notebook 02's exercise checkers: right answers pass, wrong ones get a hint that does not give it away."""

import pytest
import torch

from lenet_utils.exercises import check_collapsed_params, check_conv_output_size, check_conv_params


@pytest.mark.parametrize("answer", [7, 7.0, torch.tensor(7)])
def test_conv_output_size_right(answer):
    assert check_conv_output_size(answer)


@pytest.mark.parametrize("answer, says", [
    (14, "stride 1"),              # stride forgotten
    (6, "padding"),                # padding forgotten: floor(11 / 2) + 1
    (7.5, "rounded down"),         # floor forgotten
    ((1, 16, 7, 7), "side only"),  # a shape, not a side
    ("7", "one number"),
    (3, "formula"),
])
def test_conv_output_size_wrong(answer, says):
    feedback = check_conv_output_size(answer)
    assert not feedback and says in feedback.message and "7" not in feedback.message


def test_conv_params():
    assert check_conv_params(4016)   # 16 x (10 x 5 x 5) + 16
    assert "reference" in check_conv_params(2416).message
    assert "biases" in check_conv_params(4000).message
    assert "EVERY input channel" in check_conv_params(416).message
    assert not check_conv_params(4016.5)
    assert "4016" not in check_conv_params(1).message


def test_collapsed_params():
    assert check_collapsed_params(4010)  # Linear(400, 10): 400 x 10 + 10
    assert "bias" in check_collapsed_params(4000).message
    assert "three layers" in check_collapsed_params(59_134).message
    assert "4010" not in check_collapsed_params(1).message


@pytest.mark.parametrize("check", [check_conv_output_size, check_conv_params, check_collapsed_params])
def test_unanswered_says_how_to_answer(check):
    assert "still None" in check(None).message


def test_checking_does_not_disturb_the_learners_random_numbers():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    check_conv_output_size(7), check_conv_params(4016), check_collapsed_params(4010)
    assert torch.equal(torch.rand(3), expected)
