"""Notebook 02's sentences checked against its outputs, and the speed-layer appendix it points to."""

from __future__ import annotations

import contextlib
import io
import re

import pytest
from test_notebook_claims import REPO, markdown, output_matching, outputs

APPENDIX = REPO / "docs" / "appendix" / "speed_layer.md"


def code_and_output(page: str) -> tuple[str, str]:
    """The page's ```python block and the ```text block that follows it."""
    code = re.search(r"```python\n(.*?)```", page, re.S)[1]
    shown = re.search(r"prints\n\n```text\n(.*?)```", page, re.S)[1]
    return code, shown


def test_02_the_1998_facts():
    """Section 4: squashing after every layer up to F6, trainable subsampling, C3's connection table, RBF
    outputs against 7x12 bitmaps (84 = 7 x 12), and the pointer to the notebook that rebuilds it."""
    text = markdown("02_architecture.ipynb")
    for fact in ("every layer up to F6\n(C1, S2, C3, S4, C5 and F6) passed its weighted sum through a squashing",
                 "f(a) = 1.7159 tanh(2a/3)", "connection table", "radial basis function (RBF) units",
                 "7×12\nbitmap", "84 = 7 × 12", "`04b_lenet1998.ipynb`",
                 "multiplied the sum by a trainable coefficient, added a trainable bias"):
        assert fact in text, fact
    assert "squashing function after C5 and F6" not in text


def test_02_the_exercise_leaves_the_shapes_to_derive():
    """Section 3: the table gives conv2 ... flatten's output as ?, and no argument the student must derive."""
    text = markdown("02_architecture.ipynb")
    table = text[text.index("| name | what it is | output |"):]
    rows = {m[1]: m[2] for m in re.finditer(r"^\| `(\w+)` \| (.*) \|$", table, re.M)}
    for name in ("conv2", "pool2", "relu2", "flatten"):
        assert rows[name].endswith("| ?"), rows[name]
    rows_text = "\n".join(line for line in table.splitlines()[:12] if line.startswith("|"))
    assert len(rows_text.splitlines()) == 12 and "400" not in rows_text
    exercise = text[:text.index("LeCun's 1998 paper drew this as a picture")]   # up to the check's answer
    assert "Conv2d(6, 16, 5)" not in exercise and "Linear(400" not in exercise
    first_hint = outputs("02_architecture.ipynb")
    shown = next(t for t in first_hint if "should be an nn.Conv2d" in t)
    assert "400" not in shown and "[hint 1 of 3" in shown


def test_02_fc1_holds_most_weights_and_conv2_does_most_arithmetic():
    """The prediction's premise ("fc1 alone holds most of LeNet-5's weights") and its measured answer."""
    assert "fc1 alone holds most of LeNet-5's weights" in markdown("02_architecture.ipynb")
    shares = {m[1]: (float(m[2]), float(m[3])) for m in
              re.finditer(r"^(\w+)\s+([\d.]+)%\s+([\d.]+)%$", output_matching("02_architecture.ipynb",
                          r"^layer   params   MACs\n(?:.*\n)+?total")[0], re.M)}
    assert shares["fc1"][0] > 50 and max(shares, key=lambda n: shares[n][1]) == "conv2", shares
    asked = next(t for t in outputs("02_architecture.ipynb") if "`prediction` is still None" in t)
    assert '("conv1", "conv2", "fc1", "fc2", "fc3")' in asked


def test_02_speed_layer_moved_to_its_appendix():
    """Point 6: the lesson keeps a one-line pointer; the appendix's code runs and prints what the page says."""
    text = markdown("02_architecture.ipynb")
    assert "`docs/appendix/speed_layer.md`" in text and APPENDIX.is_file()
    assert "fast=True" not in text and "net = fold(model)" not in "\n".join(outputs("02_architecture.ipynb"))


@pytest.mark.mnist
def test_02_speed_layer_appendix_code_prints_what_the_page_says(mnist_test):
    code, shown = code_and_output(APPENDIX.read_text())
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(APPENDIX), "exec"), {})
    assert printed.getvalue() == shown


def test_02_the_shares_and_the_count_the_text_quotes():
    """Section 2: "The two convolutions hold 4% of the parameters but do 86% of the arithmetic", "`fc1` ... holds
    78% of the parameters"; the summary: "with 61,706 parameters, as the generated table shows"."""
    shares = {m[1]: (float(m[2]), float(m[3])) for m in
              re.finditer(r"^(\w+)\s+([\d.]+)%\s+([\d.]+)%$", output_matching("02_architecture.ipynb",
                          r"^layer   params   MACs\n(?:.*\n)+?total")[0], re.M)}
    params, macs = (round(shares["conv1"][i] + shares["conv2"][i]) for i in (0, 1))
    text = " ".join(markdown("02_architecture.ipynb").split())
    assert f"The two convolutions hold {params}% of the parameters but do {macs}% of the arithmetic" in text
    assert f"`fc1`, in contrast, holds {round(shares['fc1'][0])}% of the parameters" in text
    total = output_matching("02_architecture.ipynb", r"^step\s+name\s+layer[\s\S]*^\s+total\s+([\d,]+)")[1]
    assert f"→ 10, with {total} parameters, as the generated table shows" in text
