"""Exercise checkers for notebook 03, training.

The right answers come from the package itself: the batch count from ``BatchLoader`` (what ``fit``
iterates), the effect of one training step from ``training.train_step``.
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from ...data import SPLIT_SIZES, BatchLoader
from ...model import LeNet5
from ...training import TrainConfig, make_optimizer, train_step
from ._answers import as_number, unanswered
from ._core import Feedback, verdict

__all__ = ["check_total_steps", "check_train_step", "check_adam_recipe"]

TRAIN_SIZE = SPLIT_SIZES["train"]  # images in the MNIST training split


def check_total_steps(answer: Any) -> Feedback:
    """Exercise 1: optimizer steps in a whole run of ``TrainConfig(epochs=5, batch_size=256)``."""
    hint = (f"One step per batch. Count the batches in one epoch of {TRAIN_SIZE:,} images (the last batch may be "
            "smaller than the rest), then multiply by the epochs.")
    if answer is None:
        return unanswered(hint)
    value = as_number(answer)
    if value is None or not value.is_integer():
        return Feedback(False, "Give a whole number of steps.")
    config = TrainConfig(epochs=5, batch_size=256)
    per_epoch = len(BatchLoader(torch.zeros(TRAIN_SIZE, 1), torch.zeros(TRAIN_SIZE), config.batch_size))
    truth = config.epochs * per_epoch
    if value == truth:
        return verdict(True, "Fewer, larger batches: half the steps of the default recipe. Each step sees "
                             "twice the images, so the gradient is less noisy but the weights move less often.", hint)
    if value == config.epochs * (TRAIN_SIZE // config.batch_size):
        return Feedback(False, "Almost: the last, smaller batch of each epoch is a step too (no batch is dropped).")
    if value == per_epoch:
        return Feedback(False, "That is one epoch; the run has five.")
    default_batch = TrainConfig().batch_size
    if value == config.epochs * len(BatchLoader(torch.zeros(TRAIN_SIZE, 1), torch.zeros(TRAIN_SIZE), default_batch)):
        return Feedback(False, f"That is the default batch size of {default_batch}; this run uses {config.batch_size}.")
    return Feedback(False, hint)


def check_train_step(answer: Any, variant: int = 0) -> Feedback:
    """Exercise 2: ``answer(model, optimizer, x, y)`` does one step of gradient descent on one batch
    and returns the loss. It must move the weights exactly as ``train_step`` without clipping does.

    ``variant`` picks other weights, batches and a batch size (the graded assignment's hidden test);
    0 is the notebook's self-check."""
    hint = ("Four lines, in order: logits from the model; the cross-entropy loss of logits and labels; "
            "clear the old gradients, backpropagate; let the optimizer step. Return the loss.")
    if answer is None:
        return unanswered(hint)
    if not callable(answer):
        return Feedback(False, "`answer` should be your function itself (answer = my_train_step), not its result.")

    reference = TrainConfig(grad_clip=None)  # plain steps: nothing but forward, loss, backward, step
    with torch.random.fork_rng(devices=[]):  # the learner's random state is left as it was
        torch.manual_seed(variant)
        yours = LeNet5()
        theirs = copy.deepcopy(yours)
        size = 16 + 8 * (variant % 4)  # any seed: 16 to 40 images a batch
        batches = [(torch.randn(size, 1, 28, 28), torch.randint(0, 10, (size,))) for _ in range(2)]
    opt_yours, opt_theirs = make_optimizer(yours, reference), make_optimizer(theirs, reference)
    start = copy.deepcopy(yours.state_dict())
    for i, (x, y) in enumerate(batches, start=1):
        yours.train(), theirs.train()
        try:
            loss = answer(yours, opt_yours, x, y)
        except Exception as err:  # the learner's code: report it, do not crash the notebook
            return Feedback(False, f"Your function raised {type(err).__name__}: {err}. " + hint)
        want, _ = train_step(theirs, opt_theirs, x, y, reference)
        if i == 1 and _same(yours.state_dict(), start):
            return Feedback(False, "The weights did not change: after backward(), the optimizer has to step.")
        if not _same(yours.state_dict(), theirs.state_dict()):
            if i == 2:
                return Feedback(False, "Your first step was right but the second went wrong: gradients add up "
                                       "across backward() calls unless you clear them before each one.")
            return Feedback(False, "The weights moved, but not as gradient descent on the cross-entropy loss "
                                   "moves them. " + hint)
        value = as_number(loss.detach() if isinstance(loss, torch.Tensor) else loss)
        if value is None:
            return Feedback(False, "The weights move correctly; now return the batch's loss too.")
        if abs(value - want.item()) > 1e-5 * max(1.0, abs(want.item())):
            return Feedback(False, "The weights move correctly, but the value returned is not the batch's loss.")
    return verdict(True, "Your step moves every weight exactly as the package's train_step does: "
                         "this is all of learning, repeated a few thousand times.", hint)


def check_adam_recipe(answer: Any) -> Feedback:
    """Exercise 3: a ``TrainConfig`` for Adam at a constant learning rate of 1e-3 for 3 epochs."""
    hint = "Build it with keyword arguments, e.g. `TrainConfig(epochs=..., ...)`: see the fields in TrainConfig."
    if answer is None:
        return unanswered(hint)
    if not isinstance(answer, TrainConfig):
        return Feedback(False, f"`answer` should be a TrainConfig, not {type(answer).__name__!r}. " + hint)
    wrong = []
    if answer.optimizer != "adam":
        wrong.append("`optimizer` should name Adam")
    if answer.schedule != "constant":
        wrong.append("`schedule` should keep the rate fixed for the whole run")
    if abs(answer.lr - 1e-3) > 1e-12:
        wrong.append("`lr` should be one thousandth")
    if answer.epochs != 3:
        wrong.append("`epochs` should be 3")
    return verdict(not wrong, "Run `fit` with it to see how Adam does on a longer budget than the table's.",
                   "; ".join(wrong) + ".")


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return all(torch.allclose(a[k], b[k], rtol=1e-5, atol=1e-7) for k in a)
