"""Notebook 03's new sentences that quote numbers (the first-loss prediction, exercise 3 and its solution),
checked against the outputs of the executed notebooks, or nbval's fresh run when LENET_NOTEBOOKS points at
it, as in `make test-notebooks`. The older claims of 03 live in test_notebook_claims.py."""

from __future__ import annotations

import math
import re

from test_notebook_claims import markdown, output_matching

from lenet_utils.training import TrainConfig

NB, SOLUTIONS = "03_training.ipynb", "03_training.solutions.ipynb"


def text(notebook: str = NB) -> str:
    return markdown(notebook).replace("\n", " ")


def test_first_loss_is_near_ln10_as_the_text_says_after_the_prediction():
    """Section 1: "the first loss is near -log 1/10 = ln 10 ≈ 2.30", after a predict-before-you-run question
    whose right option, "c" (1.5 to 3.5), holds the printed first loss; the check cell is there, unanswered."""
    assert r"\ln 10 \approx 2.30" in text() and f"{math.log(10):.2f}" == "2.30"
    first = float(output_matching(NB, r"^losses: ([\d.]+),")[1])
    assert abs(first - math.log(10)) < 0.1 and 1.5 <= first < 3.5, first
    assert "(c) 1.5 to 3.5" in text()
    output_matching(NB, r"^Predict first: `prediction` is still None")


def test_exercise_3_and_its_solution_quote_the_schedule_of_the_run():
    """Exercise 3: "the first warmup fraction (20%)"; its solution: 3 epochs of 215 steps, 645 in all, 129 of
    them rise, 129 x 256 = 33,024 images, and section 2's run warms up for 430 steps, its first epoch."""
    assert f"({TrainConfig().warmup:.0%}) of a run" in text()
    printed = output_matching(SOLUTIONS, r"^(\d+) (\d+)$")
    steps, images = int(printed[1]), int(printed[2])
    assert (steps, images) == (round(0.2 * 645), steps * 256) == (129, 33_024)
    output_matching(SOLUTIONS, r"^Correct! 129 of the run's 645 steps warm up")
    solution = text(SOLUTIONS)
    assert "3 epochs of 215 steps" in solution and "645 in all" in solution and math.ceil(55_000 / 256) == 215
    assert "129 x 256 = 33,024 images" in solution
    # section 2's run: the schedule peaks at step 431 of 2,150, so 430 steps warm up: one epoch of 430 batches
    found = output_matching(NB, r"^([\d,]+) steps: .* at step (\d+) ")
    total, peak_step = int(found[1].replace(",", "")), int(found[2])
    assert re.search(r"warms up for 430 steps: exactly its first epoch, 55,000 images", solution)
    assert peak_step - 1 == 430 == total // 5 == math.ceil(55_000 / 128)
