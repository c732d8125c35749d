"""Notebook 02's exercise checkers: right answers pass, wrong ones get a hint that does not give it away."""

import pytest
import torch
from torch import nn

from lenet_utils.lessons.exercises import (
    check_collapsed_params,
    check_conv_output_size,
    check_conv_params,
    check_lenet5,
)


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


class Written(nn.Module):
    """The class notebook 02 asks for, as a student would write it."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding="same")
        self.pool1 = nn.AvgPool2d(2, 2)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.pool2 = nn.AvgPool2d(2, 2)
        self.relu2 = nn.ReLU()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.relu1(self.pool1(self.conv1(x)))
        x = self.relu2(self.pool2(self.conv2(x)))
        return self.fc3(self.fc2(self.fc1(self.flatten(x))))


class ReluFirst(Written):
    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))          # the activation before the pooling
        x = self.pool2(self.relu2(self.conv2(x)))
        return self.fc3(self.fc2(self.fc1(self.flatten(x))))


class Skeleton(nn.Module):
    """The lesson's cell before the student fills it in: it must run, and get a hint."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding="same")
        self.pool1 = ...

    def forward(self, x):
        ...


class WideConv1(Written):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 5, padding="same")


class Crashes(Written):
    def __init__(self):
        super().__init__()
        raise ValueError("not yet")


def test_lenet5_written_by_hand_passes_and_the_random_state_is_left_alone():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    assert check_lenet5(Written)
    assert torch.equal(torch.random.get_rng_state(), before)


@pytest.mark.parametrize("answer, says", [
    (None, "still None"),
    (Written(), "class itself"),
    (Skeleton, "`self.pool1` should be an nn.AvgPool2d"),
    (WideConv1, "`conv1.weight` has shape (8, 1, 5, 5), not LeNet-5's"),
    (ReluFirst, "forward's order"),
    (Crashes, "ValueError: not yet"),
])
def test_lenet5_written_by_hand_wrong(answer, says):
    feedback = check_lenet5(answer)
    assert not feedback and says in feedback.message, feedback.message


# --- tiered hints and predict-before-you-run -------------------------------------------------------
from lenet_utils.lessons.exercises import check_predict_most_macs, reset_hints  # noqa: E402
from lenet_utils.lessons.exercises.ch02_architecture import LENET5_HINTS  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_hints():
    reset_hints()
    yield
    reset_hints()


def test_lenet5_hints_go_from_nudge_to_code_and_never_state_fc1s_input_before_the_code():
    """The exercise asks for fc1's input size to be worked out: only the last hint level holds it."""
    levels = [check_lenet5(Skeleton).level for _ in range(4)]
    assert levels == [1, 2, 3, 3]
    assert all("400" not in text and "16 * 5 * 5" not in text for text in LENET5_HINTS.levels[:2])
    assert "16 * 5 * 5" in LENET5_HINTS.levels[2]
    wrong_fc1 = check_lenet5(WideConv1)
    assert "(6, 1, 5, 5)" not in wrong_fc1.message                  # the wanted shape is not given away


def test_the_code_hint_builds_lenet5():
    """Hint 3's lines, pasted into the notebook's class, pass the check."""
    class FromTheHint(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5, padding="same")
            self.pool1 = nn.AvgPool2d(2, 2)
            self.relu1 = nn.ReLU()
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.pool2 = nn.AvgPool2d(2, 2)
            self.relu2 = nn.ReLU()
            self.flatten = nn.Flatten()
            self.fc1 = nn.Linear(16 * 5 * 5, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = self.relu1(self.pool1(self.conv1(x)))
            x = self.relu2(self.pool2(self.conv2(x)))
            x = self.fc3(self.fc2(self.fc1(self.flatten(x))))
            return x

    assert check_lenet5(FromTheHint)


def test_most_macs_prediction():
    """conv2 does 57.6% of LeNet-5's 416,520 MACs (notebook 02's table), fc1 holds 78% of the weights."""
    right = check_predict_most_macs("conv2")
    assert right and "58%" in right.message and "fc1 holds the most parameters" in right.message
    wrong = check_predict_most_macs("fc1")
    assert not wrong and '"conv2"' in wrong.message
    assert "BEFORE" in check_predict_most_macs(None).message
    assert "one of the options" in check_predict_most_macs("pool1").message


@pytest.mark.parametrize("check, wrong, right", [(check_conv_output_size, 3, 7),
                                                 (check_conv_params, 1, 4016),
                                                 (check_collapsed_params, 1, 4010)])
def test_number_exercises_have_tiered_hints_whose_code_gives_the_answer(check, wrong, right):
    assert check(None).level == 1 and "`" not in check(None).hints[0]
    assert [check(wrong).level for _ in range(3)] == [3, 3, 3]      # two checks above, then the last level
    code = check(wrong).hints[-1]
    expression = code.split("`")[1]                                 # the first code span of the last hint
    assert eval(expression, {"nn": nn, "torch": torch}) == right and check(right)
    assert str(right) not in " ".join(check(wrong).hints[:2])        # only the code level computes it
