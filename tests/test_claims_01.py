"""Notebook 01's sentences checked against its outputs (see test_notebook_claims.py for how)."""

from __future__ import annotations

import re

from test_notebook_claims import markdown, output_matching, outputs, percent


def test_01_nearest_mean_figure_and_why_it_fails():
    """Section 5: "About 82%"; it fails on shapes, not position, since MNIST is centred by mass."""
    found = output_matching("01_mnist_data.ipynb", r"^nearest mean image: ([\d.]+%) of the test set right$")
    text = markdown("01_mnist_data.ipynb")
    assert f"About {round(percent(found[1]) * 100)}% with no learning" in text
    assert "off-centre" not in text and "centred by its centre of mass" in text


def test_01_mnist_digits_are_centred_by_mass():
    """What the sentence rests on, measured in notebook 05 over MNIST's test digits: the mean centre of
    mass sits within a tenth of a pixel of (14, 14)."""
    found = output_matching("05_predict_panel.ipynb",
                            r"^MNIST test digits: mean centre of mass at row ([\d.]+), column ([\d.]+)$")
    assert abs(float(found[1]) - 14) < 0.1 and abs(float(found[2]) - 14) < 0.1, found[0]


def test_01_predict_before_you_run_comes_before_the_measurement():
    """The prediction cell is committed empty and its check says so; it sits before the measurement."""
    texts = outputs("01_mnist_data.ipynb")
    asked = next(i for i, t in enumerate(texts) if "`prediction` is still None" in t)
    measured = next(i for i, t in enumerate(texts) if t.startswith("nearest mean image:"))
    assert asked == measured + 1                       # checked right after the run it predicts
    text = markdown("01_mnist_data.ipynb")
    assert "(a) under 30%" in text and "(c) 60% to 90%" in text


def test_01_hints_are_announced_as_tiered():
    text = markdown("01_mnist_data.ipynb")
    assert "the first is a nudge" in text and "hint(check_most_ink, 2)" in text
    first_hint = output_matching("01_mnist_data.ipynb", r"^Not yet\. Hint: `answer` is still None.*$")[0]
    assert "[hint 1 of 3" in first_hint and "`" not in first_hint.split("run the cell again. ")[1].split(" [hint")[0]
    assert re.search(r"→ 06 layer lab → 07 class gallery", text)
