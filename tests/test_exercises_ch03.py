"""Notebook 03's exercise checkers: right answers pass, wrong ones get a hint that does not give it away."""

import math

import pytest
import torch
import torch.nn.functional as F
from hint_tiers import assert_hints_escalate

from lenet_utils import LeNet5
from lenet_utils.lessons.exercises import (
    check_predict_first_loss,
    check_total_steps,
    check_train_step,
    check_warmup_steps,
    hint,
    reset_hints,
)
from lenet_utils.lessons.exercises.ch03_training import TOTAL_STEPS_HINTS, TRAIN_STEP_HINTS, WARMUP_HINTS
from lenet_utils.training import TrainConfig, make_optimizer, make_scheduler


def test_total_steps():
    assert check_total_steps(1075)  # 5 epochs x ceil(55,000 / 256)
    assert "last, smaller batch" in check_total_steps(1070).message
    assert "one epoch" in check_total_steps(215).message
    assert "128" in check_total_steps(2150).message
    assert not check_total_steps(1075.5)
    assert "1075" not in check_total_steps(3).message


def _right(model, optimizer, x, y):
    loss = F.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


def _right_returning_float(model, optimizer, x, y):
    return _right(model, optimizer, x, y).item()


def _no_zero_grad(model, optimizer, x, y):
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss


def _no_step(model, optimizer, x, y):
    loss = F.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    return loss


def _wrong_loss(model, optimizer, x, y):
    loss = F.mse_loss(model(x).softmax(1), F.one_hot(y, 10).float())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss


def _no_return(model, optimizer, x, y):
    _right(model, optimizer, x, y)


def _crashes(model, optimizer, x, y):
    raise RuntimeError("shapes do not match")


@pytest.mark.parametrize("answer", [_right, _right_returning_float])
def test_train_step_right(answer):
    assert check_train_step(answer)


@pytest.mark.parametrize("answer, says", [
    (_no_zero_grad, "gradients add up"),
    (_no_step, "optimizer has to step"),
    (_wrong_loss, "cross-entropy"),
    (_no_return, "return the batch's loss"),
    (_crashes, "RuntimeError: shapes do not match"),
    (3, "your function itself"),
])
def test_train_step_wrong(answer, says):
    feedback = check_train_step(answer)
    assert not feedback and says in feedback.message


def test_train_step_check_leaves_the_random_state_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    check_train_step(_right)
    assert torch.equal(torch.rand(3), expected)


def test_warmup_steps_is_read_from_the_schedule_fit_builds():
    config = TrainConfig(epochs=3, batch_size=256)
    total = 3 * math.ceil(55_000 / 256)                                  # 645 steps
    optimizer = make_optimizer(torch.nn.Linear(1, 1), config)
    scheduler = make_scheduler(optimizer, config, total)
    lrs = []
    for _ in range(total):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    peak = lrs.index(max(lrs))
    assert peak == 129 and all(lr < lrs[peak] for lr in lrs[:peak])   # 129 steps rise, the 130th is the peak
    assert check_warmup_steps(129) and check_warmup_steps(129.0) and check_warmup_steps(torch.tensor(129))
    assert "33,024 images" in check_warmup_steps(129).message


@pytest.mark.parametrize("wrong, says", [
    (130, "the peak step itself"),
    (645, "the whole run"),
    (128, "last, smaller batch"),           # 3 x 214 full batches only
    (258, "default batch size of 128"),     # 20% of 3 epochs at batch 128
    (430, "default recipe's warm-up"),
    (7, "round(TrainConfig().warmup * total)"),   # after two failed checks: the third level, the code
])
def test_warmup_steps_wrong(wrong, says):
    check_warmup_steps(1), check_warmup_steps(1)
    feedback = check_warmup_steps(wrong)
    assert not feedback and says in feedback.message
    assert "129" not in feedback.message


def test_warmup_steps_asks_for_a_whole_number():
    assert "whole number" in check_warmup_steps(129.5).message
    assert "whole number" in check_warmup_steps("129").message


@pytest.mark.parametrize("check", [check_total_steps, check_train_step, check_warmup_steps])
def test_unanswered_says_how_to_answer(check):
    assert "still None" in check(None).message


# --- tiered hints: a nudge first, the code last --------------------------------------------------
@pytest.fixture(autouse=True)
def _fresh_hints():
    reset_hints()
    yield
    reset_hints()


@pytest.mark.parametrize("check, hints, wrong", [(check_total_steps, TOTAL_STEPS_HINTS, 3),
                                                 (check_train_step, TRAIN_STEP_HINTS, _wrong_loss),
                                                 (check_warmup_steps, WARMUP_HINTS, 7)])
def test_each_failed_check_reveals_the_next_hint_and_the_code_comes_last(check, hints, wrong):
    assert_hints_escalate(check, hints, wrong)


def test_a_hint_level_on_request_and_a_pass_starts_again():
    asked = hint(check_warmup_steps, 3)
    assert not asked and WARMUP_HINTS.levels[2] in asked.message
    assert check_warmup_steps(None).level == 1 and check_warmup_steps(None).level == 2
    assert check_warmup_steps(129)
    assert check_warmup_steps(None).level == 1


# --- predict before you run: the first loss -----------------------------------------------------
@pytest.mark.mnist
def test_first_loss_prediction_is_judged_by_the_measurement(mnist_train):
    torch.manual_seed(0)
    loss = F.cross_entropy(LeNet5()(mnist_train.images[:128]), mnist_train.labels[:128]).item()
    assert abs(loss - math.log(10)) < 0.2                           # about ln 10: option "c", 1.5 to 3.5
    right = check_predict_first_loss("c")
    assert right and f"{loss:.2f}" in right.message and right.title == "As predicted!"
    wrong = check_predict_first_loss("(A)")
    assert not wrong and '"c"' in wrong.message and wrong.title == "Not as predicted:"
    assert "BEFORE" in check_predict_first_loss(None).message
    assert "one of the options" in check_predict_first_loss("e").message


@pytest.mark.mnist
def test_first_loss_prediction_leaves_the_random_state_alone(mnist_train):
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    check_predict_first_loss("c")
    assert torch.equal(torch.rand(3), expected)
