"""Exercise checkers for notebook 04, evaluation.

The right answers come from ``lenet_utils.metrics`` applied to the exercise's data, never typed in here.
"""

from __future__ import annotations

from typing import Any

import torch

from ...data import load_mnist
from ...metrics import confusion_matrix, per_class_report, reliability
from ._answers import as_number, as_pair, close, unanswered
from ._core import Feedback, Hints, option_for, prediction_feedback, verdict

__all__ = ["EXERCISE_CONFUSION", "EXERCISE_CONFIDENCE", "EXERCISE_CORRECT",
           "check_precision_recall", "check_always_three", "check_ece", "check_predict_unsure_accuracy"]

# Exercise 1: a 3-class confusion matrix (rows: true class, columns: predicted class).
EXERCISE_CONFUSION = torch.tensor([[50, 2, 3],
                                   [10, 40, 0],
                                   [5, 5, 85]])
# Exercise 3: six predictions, the confidence of each and whether it was right.
EXERCISE_CONFIDENCE = (0.95, 0.95, 0.95, 0.95, 0.65, 0.65)
EXERCISE_CORRECT = (True, True, True, False, True, True)

TOLERANCE = 5e-3  # answers rounded to two decimals pass

# Tiered hints (see _core): a nudge first, the code last; each failed check shows the next level.
PRECISION_RECALL_HINTS = Hints("check_precision_recall", (
    "Precision and recall ask about class 1 from two sides: what the model called class 1, and what "
    "really is class 1. Which is a row of the matrix, which a column?",
    "Precision: of everything PREDICTED as class 1 (a column), the fraction that is class 1. "
    "Recall: of everything that IS class 1 (a row), the fraction found.",
    "`cm = EXERCISE_CONFUSION.double()`, then `answer = ((cm[1, 1] / cm[:, 1].sum()).item(), "
    "(cm[1, 1] / cm[1].sum()).item())`",
))
ALWAYS_THREE_HINTS = Hints("check_always_three", (
    "Think first: the lazy model calls every digit a 3. Which real 3s does it miss, and how many of its "
    "answers are right?",
    "Recall asks: of the real 3s, how many did it call 3? Precision asks: of everything it called 3, "
    "how many are 3s? The second needs the share of 3s in the test set.",
    "`share = (test.labels == 3).double().mean().item()` (with `test = load_mnist(\"test\")`), then "
    "`answer = (share, 1.0)`; or build the matrix: `confusion_matrix(torch.full_like(test.labels, 3), "
    "test.labels)`",
))
ECE_HINTS = Hints("check_ece", (
    "Which of the 10 bins do the six predictions fall into? Only two bins are used.",
    "Group the predictions by confidence bin; in each bin compare its mean confidence with its "
    "accuracy; average those gaps, weighting each bin by its share of the predictions.",
    "`answer = 4 / 6 * abs(0.95 - 3 / 4) + 2 / 6 * abs(0.65 - 2 / 2)`",
))


def check_precision_recall(answer: Any) -> Feedback:
    """Exercise 1: ``(precision, recall)`` of class 1 in :data:`EXERCISE_CONFUSION`."""
    hint = PRECISION_RECALL_HINTS
    if answer is None:
        return unanswered(hint)
    pair = as_pair(answer)
    if pair is None:
        return Feedback(False, "Give two numbers as a tuple: (precision, recall).")
    report = per_class_report(EXERCISE_CONFUSION)[1]
    truth = (report.precision, report.recall)
    if _pair_close(pair, truth):
        cm = EXERCISE_CONFUSION
        return verdict(True, f"Class 1 is missed {cm[1].sum() - cm[1, 1]} times out of {cm[1].sum()}, and "
                             f"{cm[:, 1].sum() - cm[1, 1]} of the {cm[:, 1].sum()} images called class 1 are "
                             "something else: two different ways to be wrong.", hint)
    if _pair_close(pair, truth[::-1]):
        return Feedback(False, "Swapped: precision divides by a column sum, recall by a row sum.")
    return hint.failed()


def check_always_three(answer: Any) -> Feedback:
    """Exercise 2: a 'model' that answers 3 for every test image: ``(precision, recall)`` for the digit 3."""
    hint = ALWAYS_THREE_HINTS
    if answer is None:
        return unanswered(hint)
    pair = as_pair(answer)
    if pair is None:
        return Feedback(False, "Give two numbers as a tuple: (precision, recall).")
    labels = load_mnist("test").labels
    report = per_class_report(confusion_matrix(torch.full_like(labels, 3), labels))[3]
    truth = (report.precision, report.recall)
    if _pair_close(pair, truth):
        return verdict(True, "Perfect recall, terrible precision: either number alone can look great. "
                             "That is why the per-class table shows both.", hint)
    if _pair_close(pair, truth[::-1]):
        return Feedback(False, "Swapped: which of the two can the lazy model not fail at?")
    return hint.failed()


def check_ece(answer: Any) -> Feedback:
    """Exercise 3: the expected calibration error (10 bins) of :data:`EXERCISE_CONFIDENCE` and
    :data:`EXERCISE_CORRECT`."""
    hint = ECE_HINTS
    if answer is None:
        return unanswered(hint)
    value = as_number(answer)
    if value is None:
        return Feedback(False, "Give one number between 0 and 1.")
    confidence = torch.tensor(EXERCISE_CONFIDENCE, dtype=torch.double)
    correct = torch.tensor(EXERCISE_CORRECT)
    # Two classes: the predicted one (0) gets the confidence; a wrong prediction means the label is 1.
    probabilities = torch.stack([confidence, 1 - confidence], dim=1)  # (6, 2)
    truth = reliability(probabilities, (~correct).long(), bins=10).ece
    if close(value, truth, TOLERANCE):
        return verdict(True, "Overconfident in the top bin, underconfident in the other: the gaps do not "
                             "cancel, they add up.", hint)
    per_sample = (correct.double() - confidence).abs().mean().item()
    if close(value, per_sample, TOLERANCE):
        return Feedback(False, "That compares each prediction with 0 or 1. Compare per bin instead: "
                               "the bin's mean confidence against the bin's accuracy.")
    if close(value, _unweighted_bin_gap(confidence, correct), TOLERANCE):
        return Feedback(False, "Weight each bin's gap by the fraction of predictions that fall in it.")
    return hint.failed()


def _pair_close(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return close(a[0], b[0], TOLERANCE) and close(a[1], b[1], TOLERANCE)


def _unweighted_bin_gap(confidence: torch.Tensor, correct: torch.Tensor) -> float:
    """The common slip: every non-empty bin counts the same, however few predictions it holds."""
    gaps = []
    for value in confidence.unique():
        inside = confidence == value
        gaps.append((correct[inside].double().mean() - value).abs().item())
    return sum(gaps) / len(gaps)


# --- predict before you run: how often the unsure answers are right ----------------------------
UNSURE_OPTIONS = {"a": "under 50% (a coin flip or worse)", "b": "50% to 80%", "c": "80% to 95%",
                  "d": "95% or more (as good as the sure ones)"}
UNSURE_RANGES = {"a": (0.0, 0.5), "b": (0.5, 0.8), "c": (0.8, 0.95), "d": (0.95, 1.01)}
SURE = 0.99   # notebook 04's threshold: an answer given with at least 99% confidence is "sure"


def check_predict_unsure_accuracy(prediction: Any) -> Feedback:
    """Predict before you run: the shipped model answers most test digits with >= 99% confidence; how often
    is it right on the others? ``prediction``: one of "a"-"d" (UNSURE_OPTIONS). The truth is measured here,
    on the shipped model and the 10,000 test digits."""
    acc, count, unsure_mistakes, mistakes = _unsure_accuracy()
    return prediction_feedback(
        prediction, UNSURE_OPTIONS, option_for(acc, UNSURE_RANGES), f"{acc:.1%} of its {count} unsure answers",
        f"Below 99% confidence the model is still mostly right, yet {unsure_mistakes} of its {mistakes} mistakes "
        "are there: its confidence carries information, which is what makes it worth calibrating.")


def _unsure_accuracy() -> tuple[float, int, int, int]:
    """On the test digits the shipped model answers with under 99% confidence: its accuracy, their count,
    the mistakes among them, and its mistakes in all."""
    from ...checkpoints import pretrained_checkpoint
    from ...inference import predict_proba

    test = load_mnist("test")
    probs = predict_proba(pretrained_checkpoint().model, test.images)         # (10000, 10)
    confidence, answers = probs.max(1)
    unsure, wrong = confidence < SURE, answers != test.labels
    return (1 - wrong[unsure].double().mean().item(), int(unsure.sum()), int((wrong & unsure).sum()),
            int(wrong.sum()))
