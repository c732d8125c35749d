"""Exercise checkers for notebook 04, evaluation.

The right answers come from ``lenet_utils.metrics`` applied to the exercise's data, never typed in here.
"""

from __future__ import annotations

from typing import Any

import torch

from ...data import load_mnist
from ...metrics import confusion_matrix, per_class_report, reliability
from ._answers import as_number, as_pair, close, unanswered
from ._core import Feedback, verdict

__all__ = ["EXERCISE_CONFUSION", "EXERCISE_CONFIDENCE", "EXERCISE_CORRECT",
           "check_precision_recall", "check_always_three", "check_ece"]

# Exercise 1: a 3-class confusion matrix (rows: true class, columns: predicted class).
EXERCISE_CONFUSION = torch.tensor([[50, 2, 3],
                                   [10, 40, 0],
                                   [5, 5, 85]])
# Exercise 3: six predictions, the confidence of each and whether it was right.
EXERCISE_CONFIDENCE = (0.95, 0.95, 0.95, 0.95, 0.65, 0.65)
EXERCISE_CORRECT = (True, True, True, False, True, True)

TOLERANCE = 5e-3  # answers rounded to two decimals pass


def check_precision_recall(answer: Any) -> Feedback:
    """Exercise 1: ``(precision, recall)`` of class 1 in :data:`EXERCISE_CONFUSION`."""
    hint = ("Precision: of everything PREDICTED as class 1 (a column), the fraction that is class 1. "
            "Recall: of everything that IS class 1 (a row), the fraction found.")
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
    return Feedback(False, hint)


def check_always_three(answer: Any) -> Feedback:
    """Exercise 2: a 'model' that answers 3 for every test image: ``(precision, recall)`` for the digit 3."""
    hint = ("Recall asks: of the real 3s, how many did it call 3? Precision asks: of everything it called 3, "
            "how many are 3s? Build its confusion matrix with `confusion_matrix(torch.full_like(test.labels, 3), "
            "test.labels)` if in doubt.")
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
    return Feedback(False, hint)


def check_ece(answer: Any) -> Feedback:
    """Exercise 3: the expected calibration error (10 bins) of :data:`EXERCISE_CONFIDENCE` and
    :data:`EXERCISE_CORRECT`."""
    hint = ("Group the predictions by confidence bin; in each bin compare its mean confidence with its "
            "accuracy; average those gaps, weighting each bin by its share of the predictions.")
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
    return Feedback(False, hint)


def _pair_close(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return close(a[0], b[0], TOLERANCE) and close(a[1], b[1], TOLERANCE)


def _unweighted_bin_gap(confidence: torch.Tensor, correct: torch.Tensor) -> float:
    """The common slip: every non-empty bin counts the same, however few predictions it holds."""
    gaps = []
    for value in confidence.unique():
        inside = confidence == value
        gaps.append((correct[inside].double().mean() - value).abs().item())
    return sum(gaps) / len(gaps)
