"""Notebook 04's exercise checkers: right answers pass, wrong ones get a hint that does not give it away."""

import pytest
import torch
from hint_tiers import assert_hints_escalate

from lenet_utils.lessons.exercises import (
    EXERCISE_CONFIDENCE,
    EXERCISE_CONFUSION,
    EXERCISE_CORRECT,
    check_always_three,
    check_ece,
    check_precision_recall,
    check_predict_unsure_accuracy,
    reset_hints,
)
from lenet_utils.lessons.exercises import ch04_evaluation as ch04


def test_exercise_data_is_as_the_notebook_states_it():
    assert EXERCISE_CONFUSION.shape == (3, 3) and len(EXERCISE_CONFIDENCE) == len(EXERCISE_CORRECT) == 6


@pytest.mark.parametrize("answer", [(40 / 47, 40 / 50), (0.85, 0.80), [torch.tensor(0.851), 0.8]])
def test_precision_recall_right(answer):
    assert check_precision_recall(answer)


def test_precision_recall_wrong():
    assert "Swapped" in check_precision_recall((0.80, 0.85)).message
    assert "tuple" in check_precision_recall(0.85).message
    feedback = check_precision_recall((0.5, 0.5))
    assert not feedback and "0.8" not in feedback.message


@pytest.mark.mnist
def test_always_three(mnist_test):  # fails (never skips) when MNIST is missing
    assert check_always_three((1010 / 10_000, 1.0))  # 1,010 threes among the 10,000 test digits
    assert check_always_three((0.10, 1))
    assert "Swapped" in check_always_three((1.0, 0.101)).message
    assert not check_always_three((0.5, 0.5))


def test_ece():
    # top bin: confidence 0.95, accuracy 3/4 -> gap 0.20 on 4 of 6; bin 0.6: 0.65 vs 1 -> 0.35 on 2 of 6
    assert check_ece(0.2 * 4 / 6 + 0.35 * 2 / 6)
    assert check_ece(0.25)
    assert "per bin" in check_ece(0.3).message       # per-prediction gaps
    assert "Weight" in check_ece(0.275).message      # bins averaged without weights
    feedback = check_ece(0.9)
    assert not feedback and "0.25" not in feedback.message


@pytest.mark.parametrize("check", [check_precision_recall, check_always_three, check_ece])
def test_unanswered_says_how_to_answer(check):
    assert "still None" in check(None).message


# --- tiered hints: a nudge first, the code last --------------------------------------------------
@pytest.fixture(autouse=True)
def _fresh_hints():
    reset_hints()
    yield
    reset_hints()


@pytest.mark.parametrize("check, hints, wrong", [
    (check_precision_recall, ch04.PRECISION_RECALL_HINTS, (0.5, 0.5)),
    (check_always_three, ch04.ALWAYS_THREE_HINTS, (0.5, 0.5)),
    (check_ece, ch04.ECE_HINTS, 0.9),
])
def test_each_failed_check_reveals_the_next_hint_and_the_code_comes_last(check, hints, wrong):
    assert_hints_escalate(check, hints, wrong)


def test_the_code_hints_give_the_answers_they_promise():
    cm = EXERCISE_CONFUSION.double()
    assert check_precision_recall(((cm[1, 1] / cm[:, 1].sum()).item(), (cm[1, 1] / cm[1].sum()).item()))
    assert check_ece(4 / 6 * abs(0.95 - 3 / 4) + 2 / 6 * abs(0.65 - 2 / 2))


@pytest.mark.mnist
def test_the_always_three_code_hint_gives_the_answer(mnist_test):
    share = (mnist_test.labels == 3).double().mean().item()
    assert check_always_three((share, 1.0))


# --- predict before you run: the unsure answers -------------------------------------------------
@pytest.mark.mnist
def test_unsure_accuracy_prediction_is_judged_by_the_shipped_model(mnist_test):
    from lenet_utils import predict_proba
    from lenet_utils.checkpoints import pretrained_checkpoint

    probs = predict_proba(pretrained_checkpoint().model, mnist_test.images)
    confidence, answers = probs.max(1)
    unsure = confidence < 0.99
    acc = (answers[unsure] == mnist_test.labels[unsure]).double().mean().item()
    assert 0.8 <= acc < 0.95                                   # option "c"
    right = check_predict_unsure_accuracy("c")
    assert right and f"{acc:.1%} of its {int(unsure.sum())} unsure answers" in right.message
    wrong = check_predict_unsure_accuracy("d")
    assert not wrong and '"c"' in wrong.message
    assert "BEFORE" in check_predict_unsure_accuracy(None).message
