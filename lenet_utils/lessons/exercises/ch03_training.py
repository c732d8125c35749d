"""Exercise checkers for notebook 03, training.

The right answers come from the package itself: the batch count from ``BatchLoader`` (what ``fit``
iterates), the effect of one training step from ``training.train_step``, the warm-up from the
scheduler ``fit`` builds (``training.make_scheduler``), the first loss from a fresh ``LeNet5``.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
import torch.nn.functional as F

from ...data import SPLIT_SIZES, BatchLoader, load_mnist
from ...model import LeNet5
from ...training import TrainConfig, make_optimizer, make_scheduler, train_step
from ._answers import as_number, unanswered
from ._core import Feedback, Hints, option_for, prediction_feedback, verdict

__all__ = ["check_total_steps", "check_train_step", "check_warmup_steps",
           "check_predict_first_loss"]

TRAIN_SIZE = SPLIT_SIZES["train"]  # images in the MNIST training split

# Tiered hints (see _core): a nudge first, the code last; each failed check shows the next level.
TOTAL_STEPS_HINTS = Hints("check_total_steps", (
    "One optimizer step per batch. How many batches does one epoch make?",
    f"Count the batches in one epoch of {TRAIN_SIZE:,} images (the last batch may be smaller than the rest: "
    "it is a step too), then multiply by the epochs.",
    f"`config.epochs * math.ceil({TRAIN_SIZE:_} / config.batch_size)` with "
    "`config = TrainConfig(epochs=5, batch_size=256)`",
))
TRAIN_STEP_HINTS = Hints("check_train_step", (
    "Section 1 lists the four parts of a step: forward, loss, backward, step. Which one needs the old "
    "gradients cleared first?",
    "Four lines, in order: logits from the model; the cross-entropy loss of logits and labels; "
    "clear the old gradients, backpropagate; let the optimizer step. Return the loss.",
    "`loss = F.cross_entropy(model(x), y)`, then `optimizer.zero_grad()`, `loss.backward()`, "
    "`optimizer.step()`, and `return loss`.",
))
WARMUP_HINTS = Hints("check_warmup_steps", (
    "The schedule is laid out over optimizer steps, not over images or epochs: count the run's steps first "
    "(exercise 1), then read the warm-up fraction in TrainConfig.",
    "The run takes epochs x batches-per-epoch steps (the last, smaller batch of an epoch counts). The rate "
    "rises for the first `warmup` fraction of them, rounded to a whole step (see `training.one_cycle`), "
    "and reaches the peak on the step after.",
    f"`total = 3 * math.ceil({TRAIN_SIZE:_} / 256)`, then `answer = round(TrainConfig().warmup * total)`",
))


def check_total_steps(answer: Any) -> Feedback:
    """Exercise 1: optimizer steps in a whole run of ``TrainConfig(epochs=5, batch_size=256)``."""
    hint = TOTAL_STEPS_HINTS
    if answer is None:
        return unanswered(hint)
    value = as_number(answer)
    if value is None or not value.is_integer():
        return Feedback(False, "Give a whole number of steps.")
    config = TrainConfig(epochs=5, batch_size=256)
    per_epoch = _batches(config.batch_size)
    truth = config.epochs * per_epoch
    if value == truth:
        return verdict(True, "Fewer, larger batches: half the steps of the default recipe. Each step sees "
                             "twice the images, so the gradient is less noisy but the weights move less often.", hint)
    if value == config.epochs * (TRAIN_SIZE // config.batch_size):
        return Feedback(False, "Almost: the last, smaller batch of each epoch is a step too (no batch is dropped).")
    if value == per_epoch:
        return Feedback(False, "That is one epoch; the run has five.")
    default_batch = TrainConfig().batch_size
    if value == config.epochs * _batches(default_batch):
        return Feedback(False, f"That is the default batch size of {default_batch}; this run uses {config.batch_size}.")
    return hint.failed()


def check_train_step(answer: Any, variant: int = 0) -> Feedback:
    """Exercise 2: ``answer(model, optimizer, x, y)`` does one step of gradient descent on one batch
    and returns the loss. It must move the weights exactly as ``train_step`` without clipping does.

    ``variant`` picks other weights, batches and a batch size (the graded assignment's hidden test);
    0 is the notebook's self-check."""
    hint = TRAIN_STEP_HINTS
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
            return hint.failed(f"Your function raised {type(err).__name__}: {err}. ")
        want, _ = train_step(theirs, opt_theirs, x, y, reference)
        if i == 1 and _same(yours.state_dict(), start):
            return Feedback(False, "The weights did not change: after backward(), the optimizer has to step.")
        if not _same(yours.state_dict(), theirs.state_dict()):
            if i == 2:
                return Feedback(False, "Your first step was right but the second went wrong: gradients add up "
                                       "across backward() calls unless you clear them before each one.")
            return hint.failed("The weights moved, but not as gradient descent on the cross-entropy loss "
                               "moves them. ")
        value = as_number(loss.detach() if isinstance(loss, torch.Tensor) else loss)
        if value is None:
            return Feedback(False, "The weights move correctly; now return the batch's loss too.")
        if abs(value - want.item()) > 1e-5 * max(1.0, abs(want.item())):
            return Feedback(False, "The weights move correctly, but the value returned is not the batch's loss.")
    return verdict(True, "Your step moves every weight exactly as the package's train_step does: "
                         "this is all of learning, repeated a few thousand times.", hint)


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return all(torch.allclose(a[k], b[k], rtol=1e-5, atol=1e-7) for k in a)


# --- exercise 3: the warm-up of the one-cycle schedule -----------------------------------------
WARMUP_RUN = {"epochs": 3, "batch_size": 256}   # the run exercise 3 asks about


def check_warmup_steps(answer: Any) -> Feedback:
    """Exercise 3: in a run of ``TrainConfig(epochs=3, batch_size=256)``, how many optimizer steps are taken
    before the learning rate reaches its peak (the warm-up)? The truth is the scheduler ``fit`` builds."""
    hint = WARMUP_HINTS
    if answer is None:
        return unanswered(hint)
    value = as_number(answer)
    if value is None or not value.is_integer():
        return Feedback(False, "Give a whole number of steps.")
    config = TrainConfig(**WARMUP_RUN)
    per_epoch = _batches(config.batch_size)
    total = config.epochs * per_epoch
    lrs = _schedule(config, total)
    truth = max(range(total), key=lrs.__getitem__)          # steps before the peak one
    default = TrainConfig()
    default_warmup = round(default.warmup * default.epochs * _batches(default.batch_size))
    if value == truth:
        return verdict(True, f"{truth} of the run's {total} steps warm up ({truth / total:.0%}); the rate peaks at "
                             f"step {truth + 1}, after {truth * config.batch_size:,} images. The schedule is "
                             "stretched over whatever steps the run has: double the batch and each phase has half "
                             "the steps but sees the same images (the default recipe's warm-up, "
                             f"{default_warmup} steps of {default.batch_size}, is one epoch of its five).", hint)
    if value == truth + 1:
        return hint.failed("Almost: that counts the peak step itself, taken at the full rate. ")
    if value == total:
        return hint.failed("That is the whole run; the warm-up is only part of it. ")
    if value == round(default.warmup * config.epochs * (TRAIN_SIZE // config.batch_size)):
        return hint.failed("Almost: each epoch's last, smaller batch is a step too. ")
    if value == round(default.warmup * config.epochs * _batches(default.batch_size)):
        return hint.failed(f"That is at the default batch size of {default.batch_size}; this run uses "
                           f"{config.batch_size}. ")
    if value == default_warmup:
        return hint.failed("That is the default recipe's warm-up (5 epochs at batch 128), not this run's. ")
    return hint.failed()


def _batches(batch_size: int) -> int:
    """Batches (so optimizer steps) in one epoch of the training split, as ``fit`` iterates them."""
    return len(BatchLoader(torch.zeros(TRAIN_SIZE, 1), torch.zeros(TRAIN_SIZE), batch_size))


def _schedule(config: TrainConfig, total: int) -> list[float]:
    """The learning rate of each of ``total`` steps, from the scheduler ``fit`` builds (``history.lrs``)."""
    optimizer = make_optimizer(torch.nn.Linear(1, 1), config)          # any parameters: only the rate is read
    scheduler = make_scheduler(optimizer, config, total)
    lrs = []
    for _ in range(total):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return lrs


# --- predict before you run: the loss before any step ------------------------------------------
FIRST_LOSS_OPTIONS = {"a": "under 0.5", "b": "0.5 to 1.5", "c": "1.5 to 3.5", "d": "3.5 or more"}
FIRST_LOSS_RANGES = {"a": (0.0, 0.5), "b": (0.5, 1.5), "c": (1.5, 3.5), "d": (3.5, float("inf"))}


def check_predict_first_loss(prediction: Any) -> Feedback:
    """Predict before you run: the cross-entropy loss of a fresh LeNet5 (``set_seed(0)``, as in the lesson)
    on the first batch of 128 training images, before any step. ``prediction``: one of "a"-"d"
    (FIRST_LOSS_OPTIONS). The truth is measured here."""
    loss = _first_loss()
    return prediction_feedback(
        prediction, FIRST_LOSS_OPTIONS, option_for(loss, FIRST_LOSS_RANGES), f"{loss:.2f}",
        f"Random weights give each of the 10 digits a probability near 1/10, so the loss is about "
        f"-log(1/10) = ln 10 = {math.log(10):.2f}, whatever the digit: the price of guessing. Far below it, the "
        "network would already know something; far above it, it would be confidently wrong.")


def _first_loss() -> float:
    """The loss of ``LeNet5()`` after ``set_seed(0)`` on training images 0-127: notebook 03's first step."""
    train = load_mnist("train")
    with torch.random.fork_rng(devices=[]), torch.no_grad():   # the learner's random state is left as it was
        torch.manual_seed(0)
        model = LeNet5()
        return F.cross_entropy(model(train.images[:128]), train.labels[:128]).item()
