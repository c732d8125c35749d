import math

import pytest
import torch

from lenet_utils.metrics import (
    accuracy,
    confident_mistakes,
    confusion_matrix,
    format_report,
    most_confused_pairs,
    per_class_report,
    reliability,
)

LABELS = torch.tensor([0, 0, 1, 1, 1, 2, 2, 2])
PREDS = torch.tensor([0, 1, 1, 1, 2, 2, 2, 1])


def test_accuracy_from_labels_or_scores():
    assert accuracy(PREDS, LABELS) == pytest.approx(5 / 8)
    scores = torch.nn.functional.one_hot(PREDS, 3).float()
    assert accuracy(scores, LABELS) == pytest.approx(5 / 8)
    with pytest.raises(ValueError, match="differ in length"):
        accuracy(PREDS[:3], LABELS)
    with pytest.raises(ValueError, match="empty"):
        accuracy(torch.tensor([]), torch.tensor([]))


def test_confusion_matrix_rows_are_truth_columns_predictions():
    cm = confusion_matrix(PREDS, LABELS, num_classes=3)
    assert cm.tolist() == [[1, 1, 0], [0, 2, 1], [0, 1, 2]]
    assert cm.sum() == 8


def test_precision_and_recall_per_class():
    reports = per_class_report(confusion_matrix(PREDS, LABELS, 3))
    assert [r.digit for r in reports] == [0, 1, 2]
    assert reports[0].precision == 1.0 and reports[0].recall == 0.5 and reports[0].support == 2
    assert reports[1].precision == pytest.approx(2 / 4) and reports[1].recall == pytest.approx(2 / 3)
    assert reports[2].precision == pytest.approx(2 / 3) and reports[2].recall == pytest.approx(2 / 3)
    text = format_report(reports)
    assert text.splitlines()[0].split() == ["digit", "precision", "recall", "support"]
    assert len(text.splitlines()) == 4


def test_class_never_predicted_has_zero_precision_not_nan():
    cm = confusion_matrix(torch.tensor([0, 0]), torch.tensor([0, 1]), 2)
    reports = per_class_report(cm)
    assert reports[1].precision == 0.0 and reports[1].recall == 0.0


def test_most_confused_pairs():
    cm = torch.tensor([[5, 3, 0], [1, 5, 0], [0, 7, 5]])
    assert most_confused_pairs(cm, 2) == [(2, 1, 7), (0, 1, 3)]
    assert most_confused_pairs(torch.eye(3, dtype=torch.long), 5) == []


def test_confident_mistakes_are_sorted_by_confidence():
    probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    labels = torch.tensor([0, 0, 1, 1])
    mistakes = confident_mistakes(probs, labels, k=5)
    assert [(m.index, m.label, m.predicted) for m in mistakes] == [(1, 0, 1), (2, 1, 0)]
    assert mistakes[0].confidence == pytest.approx(0.8)
    assert len(confident_mistakes(probs, labels, k=1)) == 1


def test_reliability_of_a_perfectly_calibrated_toy():
    # 10 predictions at confidence 0.8 of which 8 right; 10 at 0.6 of which 6 right
    probs = torch.tensor([[0.8, 0.2]] * 10 + [[0.6, 0.4]] * 10)
    labels = torch.tensor([0] * 8 + [1] * 2 + [0] * 6 + [1] * 4)
    rel = reliability(probs, labels, bins=10)
    assert rel.counts.sum() == 20 and rel.counts[8] == 10 and rel.counts[6] == 10
    assert rel.accuracy[8] == pytest.approx(0.8) and rel.confidence[8] == pytest.approx(0.8)
    assert rel.ece == pytest.approx(0.0, abs=1e-6)
    assert math.isnan(rel.accuracy[0])


def test_reliability_of_an_overconfident_model():
    probs = torch.tensor([[0.99, 0.01]] * 10)
    labels = torch.tensor([0] * 5 + [1] * 5)
    assert reliability(probs, labels).ece == pytest.approx(0.49)
