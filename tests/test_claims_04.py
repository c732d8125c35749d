"""Notebook 04's new sentences that quote numbers (the predict-before-you-run question of section 8),
checked against the outputs of the executed notebook, or nbval's fresh run when LENET_NOTEBOOKS points at
it, as in `make test-notebooks`. The older claims of 04 live in test_notebook_claims.py."""

from __future__ import annotations

from test_notebook_claims import NOTEBOOKS, markdown, output_matching, percent

from lenet_utils.lessons.exercises import ch04_evaluation as ch04

NB = "04_evaluation.ipynb"


def text() -> str:
    return markdown(NB).replace("\n", " ")


def test_the_unsure_answers_question_is_asked_at_the_threshold_the_code_uses():
    """Section 8: "answers given with at least 99% confidence" are the sure ones: the cell after the
    question splits at >= 0.99, and so does the check (ch04.SURE)."""
    assert "answers given with at least 99% confidence" in text() and ch04.SURE == 0.99
    source = NOTEBOOKS.joinpath(NB).read_text()
    assert "sure = confidence >= 0.99" in source
    assert "(c) 80% to 95%" in text() and ch04.UNSURE_RANGES["c"] == (0.8, 0.95)


def test_the_printed_unsure_accuracy_is_the_option_the_check_calls_right():
    """The shipped model's unsure answers (printed: "the other N answers are right X% of the time") fall in
    option "c", the one check_predict_unsure_accuracy measures; the check cell is there, unanswered."""
    found = output_matching(NB, r"^the other (\d+) answers are right ([\d.]+%) of the time$")
    assert ch04.option_for(percent(found[2]), ch04.UNSURE_RANGES) == "c", found[0]
    output_matching(NB, r"^Predict first: `prediction` is still None")


def shipped_test_accuracy() -> float:
    """The shipped model's test accuracy, as section 2 prints it."""
    return percent(output_matching(NB, r"^test accuracy ([\d.]+%): \d+ mistakes out of [\d,]+$")[1])


# The lessons' sentences that quote the shipped model's (the reference LeNet-5's) 99% on MNIST's test set.
QUOTES_99 = {"01_mnist_data.ipynb": "LeNet-5 will get above 99% by learning small stroke detectors",
             "02_architecture.ipynb": "It still reaches 99% (the convolutions and their ReLUs do the non-linear work)",
             "04_evaluation.ipynb": '"99% accurate" is one number.',
             "05_predict_panel.ipynb": "The network from notebooks 02-04 reads MNIST digits at over 99%."}


def test_the_lessons_quote_the_shipped_models_99_percent():
    acc = shipped_test_accuracy()
    assert 0.99 <= acc < 1.0, acc                          # "over 99%", "99% accurate": 99 point something
    for notebook, sentence in QUOTES_99.items():
        assert sentence in " ".join(markdown(notebook).split()), (notebook, sentence)


def test_the_sure_answers_and_every_digits_recall_and_precision():
    """Section 4: "every digit is found at least 98% of the time, and every answer is right at least 98% of the
    time"; the summary: its "99% sure" answers are right about that often (the printed share, at >= 99%)."""
    table = output_matching(NB, r"^digit\s+precision\s+recall\s+support\n((?:.+\n?){10})")
    rows = [line.split() for line in table[1].strip().splitlines()]
    worst = min(min(float(r[1]), float(r[2])) for r in rows)
    assert 0.98 <= worst < 0.99, rows                      # "at least 98%", and not 99
    assert ("every digit is found at least 98% of the time, and every answer is right at least 98% of the time"
            in text())
    sure = percent(output_matching(NB, r">= 99% confidence; ([\d.]+%) of those are right")[1])
    assert sure >= 0.99 and 'its "99% sure" answers are right about that often' in text()
