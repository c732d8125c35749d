"""Notebook 03's exercise checkers: right answers pass, wrong ones get a hint that does not give it away."""

import pytest
import torch
import torch.nn.functional as F

from lenet_utils.lessons.exercises import check_adam_recipe, check_total_steps, check_train_step
from lenet_utils.training import TrainConfig


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


def test_adam_recipe():
    assert check_adam_recipe(TrainConfig(optimizer="adam", lr=1e-3, schedule="constant", epochs=3))
    feedback = check_adam_recipe(TrainConfig(optimizer="adam", epochs=3))
    assert not feedback and "`schedule`" in feedback.message and "`lr`" in feedback.message
    assert "`optimizer`" not in feedback.message and "`epochs`" not in feedback.message
    assert "TrainConfig" in check_adam_recipe({"optimizer": "adam"}).message


@pytest.mark.parametrize("check", [check_total_steps, check_train_step, check_adam_recipe])
def test_unanswered_says_how_to_answer(check):
    assert "still None" in check(None).message
