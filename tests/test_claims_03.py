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
    assert "129 x 256 = 33,024 images, a fifth of the run's 3 epochs" in solution and 5 * 33_024 == 3 * 215 * 256
    # section 2's run: the schedule peaks at step 431 of 2,150, so 430 steps warm up: one epoch of 430 batches
    found = output_matching(NB, r"^([\d,]+) steps: .* at step (\d+) ")
    total, peak_step = int(found[1].replace(",", "")), int(found[2])
    assert re.search(r"warms up for 430 steps: exactly its first epoch, 55,000 images", solution)
    assert peak_step - 1 == 430 == total // 5 == math.ceil(55_000 / 128)


def test_about_99_percent_in_5_epochs():
    """The goals, the summary and 03b's first line: the reference "reaches about 99% in 5 epochs": the last
    epoch's validation accuracy and the test accuracy scored once both round to 99% (test_notebook_claims checks
    the 99% to 0.1 point), after TrainConfig()'s 5 epochs, on a validation split of data.VAL_SIZE digits."""
    from lenet_utils.data import VAL_SIZE

    once = output_matching(NB, r"^test accuracy ([\d.]+%) on 10,000 digits \(validation ([\d.]+%)\)$")
    assert all(abs(float(v.rstrip("%")) - 99) < 0.5 for v in (once[1], once[2])), once[0]    # "about 99%"
    epochs = TrainConfig().epochs
    t = text()
    assert epochs == 5 and f"The reference LeNet-5 reaches about 99% in {epochs} epochs on a CPU" in t
    assert "train the reference LeNet-5 from scratch to about 99% accuracy" in t
    assert "Notebook 03 trained LeNet-5 to about 99% on digits it never trained on" in text("03b_generalisation.ipynb")
    assert f"the validation split ({VAL_SIZE:,} digits held out of training)" in t
    assert f"`TrainConfig()`: {epochs} epochs of SGD with Nesterov momentum, batch {TrainConfig().batch_size}" in t


def test_exercise_1_solution_counts_the_batches():
    """Exercise 1's solution: "55,000 training images / 256 = 214.8: 214 full batches and one of 216 images, so
    215 steps per epoch (no batch is dropped), and 5 epochs of them"; "Section 2's run (5 epochs at batch 128)"."""
    from lenet_utils.data import SPLIT_SIZES

    n, cfg = SPLIT_SIZES["train"], TrainConfig()
    full, rest = divmod(n, 256)
    assert (n, full, rest) == (55_000, 214, 216)
    solution = text(SOLUTIONS)
    assert (f"{n:,} training images / 256 = {n / 256:.1f}: {full} full batches and one of {rest} images, so "
            f"{math.ceil(n / 256)} steps per epoch (no batch is dropped), and {cfg.epochs} epochs of them") in solution
    assert f"Section 2's run ({cfg.epochs} epochs at batch {cfg.batch_size})" in solution
