"""Notebook 02b's sentences that quote numbers, beyond test_notebook_claims.py's 02b tests: checked against the
executed notebook's outputs (or nbval's fresh run when LENET_NOTEBOOKS points at it) and results/by_hand.json."""

from __future__ import annotations

import math

from test_notebook_claims import BY_HAND, markdown, output_matching

NB = "02b_backprop.ipynb"


def text() -> str:
    return " ".join(markdown(NB).split())


def test_02b_the_short_run_and_the_benchmark_say_how_much_they_trained_on():
    """Section 4: "on the first 6,000 training digits (47 batches)" (batches of 128, as printed); "runs the
    course's recipe for 1 and for 3 epochs on all 60,000 digits" (by_hand.json's train_images and runs)."""
    batches = int(output_matching(NB, r"\b(\d+) batches in [\d.]+ s; test accuracy on 2,000 digits")[1])
    assert batches == math.ceil(6_000 / 128) and f"on the first 6,000 training digits ({batches} batches)" in text()
    assert {"numpy_1_epochs", "numpy_3_epochs"} <= set(BY_HAND["runs"])
    assert f"for 1 and for 3 epochs on all {BY_HAND['train_images']:,} digits" in text()


def test_02b_the_whole_net_is_checked_on_every_parameter():
    """The summary: "the same gradients as `LeNet5` for all 61,706 parameters", as section 3 printed."""
    count = output_matching(NB, r"^([\d,]+) gradients compared, all within 1e-10 of autograd's: True$")[1]
    assert f"the same gradients as `LeNet5` for all {count} parameters" in text()
