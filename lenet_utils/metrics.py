"""Scoring predictions: accuracy, confusion matrix, per-class precision and recall,
the most confused pairs, the most confident mistakes and calibration.

Every function takes plain tensors (labels ``(N,)``, predictions ``(N,)`` or probabilities
``(N, C)``), so it works for any model and is easy to check by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def accuracy(predictions: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of predictions equal to the labels. ``predictions`` may be labels or scores ``(N, C)``."""
    predictions = _as_labels(predictions)
    _check_same_length(predictions, labels)
    if len(labels) == 0:
        raise ValueError("accuracy of an empty set is undefined")
    return (predictions.cpu() == labels.cpu()).float().mean().item()


def confusion_matrix(predictions: torch.Tensor, labels: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """``(C, C)`` counts: row = true class, column = predicted class; the diagonal is right."""
    predictions = _as_labels(predictions).cpu().long()
    labels = labels.cpu().long()
    _check_same_length(predictions, labels)
    flat = labels * num_classes + predictions
    return torch.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


@dataclass(frozen=True)
class ClassReport:
    digit: int
    precision: float   # of the images predicted as this digit, the fraction that are
    recall: float      # of the images of this digit, the fraction found
    support: int       # images of this digit


def per_class_report(cm: torch.Tensor) -> list[ClassReport]:
    """Precision and recall per class from a confusion matrix (NaN-free: 0 where undefined)."""
    cm = cm.double()
    tp = cm.diag()
    predicted = cm.sum(0)  # column sums
    actual = cm.sum(1)     # row sums
    precision = torch.where(predicted > 0, tp / predicted.clamp(min=1), torch.zeros_like(tp))
    recall = torch.where(actual > 0, tp / actual.clamp(min=1), torch.zeros_like(tp))
    return [ClassReport(i, precision[i].item(), recall[i].item(), int(actual[i].item())) for i in range(len(cm))]


def format_report(reports: list[ClassReport]) -> str:
    """The per-class table as text, one digit per line."""
    lines = ["digit  precision  recall  support"]
    for r in reports:
        lines.append(f"{r.digit:>5}  {r.precision:>9.4f}  {r.recall:>6.4f}  {r.support:>7,}")
    return "\n".join(lines)


def most_confused_pairs(cm: torch.Tensor, k: int = 5) -> list[tuple[int, int, int]]:
    """The ``k`` largest off-diagonal counts as ``(true digit, predicted digit, count)``."""
    off = cm.clone()
    off.fill_diagonal_(0)
    counts, flat = off.flatten().sort(descending=True)
    c = cm.shape[0]
    return [(int(i) // c, int(i) % c, int(n)) for n, i in zip(counts[:k], flat[:k]) if n > 0]


@dataclass(frozen=True)
class Mistake:
    index: int          # position in the evaluated split
    label: int          # the true digit
    predicted: int      # what the model said
    confidence: float   # the probability it gave its (wrong) answer


def confident_mistakes(probabilities: torch.Tensor, labels: torch.Tensor, k: int = 16) -> list[Mistake]:
    """The ``k`` wrong predictions made with the highest confidence, most confident first."""
    probabilities = probabilities.cpu()
    labels = labels.cpu()
    _check_same_length(probabilities, labels)
    confidence, predicted = probabilities.max(1)
    wrong = (predicted != labels).nonzero().flatten()
    order = confidence[wrong].argsort(descending=True)[:k]
    return [Mistake(int(i), int(labels[i]), int(predicted[i]), float(confidence[i])) for i in wrong[order]]


@dataclass(frozen=True)
class Reliability:
    """Calibration in ``n`` confidence bins: a calibrated model is right 90% of the time it says 0.9."""

    bin_edges: torch.Tensor     # (n + 1,)
    confidence: torch.Tensor    # (n,) mean confidence in each bin (NaN when empty)
    accuracy: torch.Tensor      # (n,) accuracy in each bin (NaN when empty)
    counts: torch.Tensor        # (n,) predictions per bin
    ece: float                  # expected calibration error: count-weighted |accuracy - confidence|


def reliability(probabilities: torch.Tensor, labels: torch.Tensor, bins: int = 10) -> Reliability:
    """Bin predictions by confidence and compare each bin's confidence to its accuracy."""
    probabilities = probabilities.cpu().double()
    labels = labels.cpu()
    _check_same_length(probabilities, labels)
    confidence, predicted = probabilities.max(1)
    correct = (predicted == labels).double()
    edges = torch.linspace(0, 1, bins + 1, dtype=torch.double)
    which = torch.bucketize(confidence, edges[1:-1], right=True)   # bin index 0..bins-1
    counts = torch.bincount(which, minlength=bins)
    conf_sum = torch.bincount(which, weights=confidence, minlength=bins)
    acc_sum = torch.bincount(which, weights=correct, minlength=bins)
    nonempty = counts > 0
    mean_conf = torch.where(nonempty, conf_sum / counts.clamp(min=1), torch.full_like(conf_sum, float("nan")))
    mean_acc = torch.where(nonempty, acc_sum / counts.clamp(min=1), torch.full_like(acc_sum, float("nan")))
    ece = ((acc_sum - conf_sum).abs().sum() / max(len(labels), 1)).item()
    return Reliability(edges, mean_conf, mean_acc, counts, ece)


def _as_labels(predictions: torch.Tensor) -> torch.Tensor:
    return predictions.argmax(1) if predictions.dim() == 2 else predictions


def _check_same_length(a: torch.Tensor, b: torch.Tensor) -> None:
    if len(a) != len(b):
        raise ValueError(f"predictions ({len(a)}) and labels ({len(b)}) differ in length")
