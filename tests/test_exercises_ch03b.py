"""Notebook 03b's exercise checkers: right answers pass, wrong ones fail with a hint that never
contains the answer; the shift question is checked against the measured accuracy."""

import pytest
import torch

import lenet_utils.lessons.exercises as ex
from lenet_utils.config import LeNetConfig
from lenet_utils.lessons.exercises import Feedback, check_receptive_field, check_shift_prediction
from lenet_utils.lessons.exercises import ch03b_generalisation as ch03b


def fails_without_giving_away(feedback: Feedback, answer) -> None:
    assert isinstance(feedback, Feedback) and not feedback.passed
    assert feedback.message and str(answer) not in feedback.message


def test_the_package_exports_the_checkers():
    assert ex.check_receptive_field is check_receptive_field and ex.check_shift_prediction is check_shift_prediction


def test_receptive_fields_by_the_rule_and_by_autograd():
    """The rule the notebook teaches, checked against the network itself: the input pixels one unit's
    gradient reaches (ReLUs left out: they can only hide pixels)."""
    assert ch03b.receptive_field() == 16 and ch03b.receptive_field(upto="conv1") == 5
    assert ch03b.receptive_field(upto="pool1") == 6 and ch03b.receptive_field(upto="conv2") == 14
    from lenet_utils.lab_net import LabNet
    for config in (LeNetConfig(), ch03b.RF_CONFIG, LeNetConfig(conv1_kernel=7, conv2_kernel=3)):
        net = dict(LabNet(config).named_children())
        x = torch.zeros(1, 1, 28, 28, requires_grad=True)
        h = net["pool2"](net["conv2"](net["pool1"](net["conv1"](x))))
        h[0, 0, h.shape[2] // 2, h.shape[3] // 2].backward()
        rows, cols = (x.grad[0, 0] != 0).nonzero(as_tuple=True)
        side = int(rows.max() - rows.min()) + 1
        assert side == int(cols.max() - cols.min()) + 1 == ch03b.receptive_field(config), config
    with pytest.raises(ValueError, match="upto"):
        ch03b.receptive_field(upto="fc1")


def test_check_receptive_field():
    truth = ch03b.receptive_field(ch03b.RF_CONFIG)
    assert truth == 10
    assert check_receptive_field(10) and check_receptive_field(10.0) and check_receptive_field(torch.tensor(10))
    assert "None" in check_receptive_field(None).message
    assert "reference" in check_receptive_field(16).message                 # the reference's, not this variant's
    assert "conv2" in check_receptive_field(8).message                       # stopped one layer early
    assert "jump" in check_receptive_field(7).message                        # the jump forgotten after pool1
    for wrong in (9, 12, 28, 1):
        fails_without_giving_away(check_receptive_field(wrong), truth)
    for bad in ("ten", 10.5, -3, [10]):
        feedback = check_receptive_field(bad)
        assert not feedback.passed and "whole number" in feedback.message


def test_shift_right_moves_ink_and_brings_in_paper():
    pixels = torch.zeros(1, 28, 28, dtype=torch.uint8)
    pixels[0, 10, 3] = 200
    moved = ch03b.shift_right(pixels, 4)
    assert moved[0, 10, 7] == 200 and moved.sum() == 200 and torch.equal(ch03b.shift_right(pixels, 0), pixels)
    assert ch03b.shift_right(pixels, 26).sum() == 0                          # off the page: blank


@pytest.mark.mnist
def test_check_shift_prediction_against_the_measurement(mnist_ready):
    acc = ch03b.shifted_accuracy(ch03b.SHIFT_PIXELS)
    truth = "a" if acc >= 0.98 else "b" if acc >= 0.80 else "c"
    assert truth == "b", acc                                                  # what notebook 03b discusses
    right = check_shift_prediction(truth)
    assert right and f"{acc:.1%}" in right.message
    assert check_shift_prediction(" (B) ")                                    # a letter, however written
    for wrong in set(ch03b.SHIFT_CHOICES) - {truth}:
        feedback = check_shift_prediction(wrong)
        assert not feedback.passed and f"{acc:.1%}" in feedback.message    # the measurement, after the guess
    assert "None" in check_shift_prediction(None).message
    assert "one letter" in check_shift_prediction("d").message
    assert ch03b.shifted_accuracy(0) > ch03b.shifted_accuracy(2) > acc > ch03b.shifted_accuracy(6)
