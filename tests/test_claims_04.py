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
