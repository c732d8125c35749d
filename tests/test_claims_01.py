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


def _text(notebook: str = "01_mnist_data.ipynb") -> str:
    return " ".join(markdown(notebook).split())


def test_01_class_shares_and_the_trivial_baseline():
    """Section 4 and the summary: "from 9% for 5s to 11% for 1s", "the trivial baseline is about 11%", "nearly
    balanced (9–11% each)": the printed table's training shares, and the printed baseline."""
    table = output_matching("01_mnist_data.ipynb", r"^digit\s+train\s+share\s+test\s+share\n((?:.+\n?){10})")
    shares = {int(r.split()[0]): percent(r.split()[2]) for r in table[1].strip().splitlines()}
    low, high = min(shares, key=shares.get), max(shares, key=shares.get)
    lo, hi = round(100 * shares[low]), round(100 * shares[high])
    base = percent(output_matching("01_mnist_data.ipynb", r"^always answering the most common digit \(\d\) scores "
                                                          r"([\d.]+%) on the test set$")[1])
    text = _text()
    assert f"from {lo}% for {low}s to {hi}% for {high}s" in text and f"nearly balanced ({lo}–{hi}% each)" in text
    assert f"the trivial baseline is about {round(100 * base)}%" in text
    assert f"the trivial baseline is {round(100 * base)}%." in text


def test_01_summary_quotes_the_nearest_mean_figure():
    found = output_matching("01_mnist_data.ipynb", r"^nearest mean image: ([\d.]+%) of the test set right$")
    assert f"templates already gets about {round(percent(found[1]) * 100)}% right" in _text()


def test_01_what_a_float_copy_of_the_training_pixels_would_take():
    """Sections 6 and 7, and exercise 2's solution: a float64 copy of the 60,000 x 28 x 28 training pixels is
    376 MB, a float32 copy (what `train.images` makes, one slice at a time) 188 MB, of 47 million pixels; from
    notebook 03 on the last 5,000 digits are the validation split (data.VAL_SIZE)."""
    from lenet_utils.data import VAL_SIZE

    shape = output_matching("01_mnist_data.ipynb", r"^train_full: pixels \((\d+), (\d+), (\d+)\) torch\.uint8")
    images, pixels = int(shape[1]), int(shape[1]) * int(shape[2]) * int(shape[3])
    output_matching("01_mnist_data.ipynb", rf"^\({images}, 1, 28, 28\) torch\.float32 ")        # 4 bytes a pixel
    text = _text()
    assert f"a float copy of every pixel ({pixels * 8 / 1e6:.0f} MB, in each student's kernel)" in text
    assert f"copy of all {images:,} images would take {pixels * 4 / 1e6:.0f} MB in every kernel" in text
    assert f"its last {VAL_SIZE:,} digits are kept aside as a **validation** split" in text
    assert f"make a {pixels * 8 / 1e6:.0f} MB copy of all {pixels / 1e6:.0f} million" in _text(
        "01_mnist_data.solutions.ipynb")
