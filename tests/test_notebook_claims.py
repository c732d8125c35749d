"""The lessons' claims, checked against the executed notebooks.

Each lesson states results in its text ("at least 99% test accuracy", "the schedule beats a constant
rate", "the naive resize is barely better than guessing"). The numbers behind them come from cells
whose output varies from run to run, so nbval does not compare those outputs (tag
``nbval-ignore-output``). These tests read the outputs committed with the notebooks, as
``make notebooks`` last wrote them, and check that they still say what the text says. They run in
milliseconds: nothing is executed here.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def outputs(notebook: str) -> list[str]:
    """The text each code cell printed or returned (stream and text/plain), one string per cell."""
    nb = nbformat.read(NOTEBOOKS / notebook, as_version=4)
    texts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        parts = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out["text"])
            elif "text/plain" in out.get("data", {}):
                parts.append(out["data"]["text/plain"])
        texts.append("".join(parts))
    return texts


def output_matching(notebook: str, pattern: str) -> re.Match[str]:
    """The first cell output where ``pattern`` matches (multiline); fails when none does."""
    for text in outputs(notebook):
        found = re.search(pattern, text, re.MULTILINE)
        if found:
            return found
    pytest.fail(f"{notebook}: no cell output matches {pattern!r}; re-execute it with `make notebooks`")


def percent(text: str) -> float:
    return float(text.rstrip("%")) / 100


# --- 02: the network, layer by layer -----------------------------------------------------------------

# (step, layer, output shape, parameters): LeNet-5 as this course defines it (notebook 02, summary)
REFERENCE = [
    (1, "Input", "(batch, 1, 28, 28)", 0),
    (2, 'Conv2d(1, 6, 5, padding="same")', "(batch, 6, 28, 28)", 156),   # C1
    (3, "AvgPool2d(2, 2)", "(batch, 6, 14, 14)", 0),                     # S2
    (4, "ReLU", "(batch, 6, 14, 14)", 0),
    (5, "Conv2d(6, 16, 5)", "(batch, 16, 10, 10)", 2416),                # C3
    (6, "AvgPool2d(2, 2)", "(batch, 16, 5, 5)", 0),                      # S4
    (7, "ReLU", "(batch, 16, 5, 5)", 0),
    (8, "Flatten", "(batch, 400)", 0),
    (9, "Linear(400, 120)", "(batch, 120)", 48120),                      # C5
    (10, "Linear(120, 84)", "(batch, 84)", 10164),                       # F6
    (11, "Linear(84, 10)", "(batch, 10)", 850),                          # output: 10 raw scores
]

ROW = re.compile(r"^\s*(\d+)\s+\S+\s+(.+?)\s+(\(batch[^)]*\))\s+([\d,]+)\s+[\d,]+$")


def test_02_layer_table_is_the_reference_table():
    """Summary: "(batch, 1, 28, 28) -> C1 (6, 28, 28) -> ... -> 10, with 61,706 parameters"."""
    table = output_matching("02_architecture.ipynb", r"^step\s+name\s+layer[\s\S]*^\s+total\s+([\d,]+)")
    rows = [ROW.match(line) for line in table.group(0).splitlines()]
    got = [(int(m[1]), m[2], m[3], int(m[4].replace(",", ""))) for m in rows if m]
    assert got == REFERENCE
    assert int(table.group(1).replace(",", "")) == sum(r[3] for r in REFERENCE) == 61_706


def test_02_initial_weights_within_the_init_bound():
    """Section 5: PyTorch draws conv1's weights uniformly from +-1/sqrt(25) = 0.2."""
    found = output_matching("02_architecture.ipynb", r"largest \|weight\|: ([\d.]+) \(bound 1/sqrt\(25\) = ([\d.]+)\)")
    largest, bound = float(found[1]), float(found[2])
    assert bound == 0.2 and largest <= bound


# --- 03: training --------------------------------------------------------------------------------------


def test_03_first_loss_is_ln10_and_falls():
    """Section 1: the loss "starts near ln 10 = 2.30", then falls on one batch."""
    found = output_matching("03_training.ipynb", r"^losses: (.*)$")
    losses = [float(v) for v in found[1].split(", ")]
    assert len(losses) == 20
    assert abs(losses[0] - math.log(10)) < 0.2 and losses[-1] < losses[0] / 2, losses


def test_03_reference_reaches_99_percent():
    """Summary: "The reference LeNet-5 reaches at least 99% test accuracy in 5 epochs"."""
    table = output_matching("03_training.ipynb", r"^epoch\s+train loss\s+train acc\s+test loss\s+test acc.*\n((?:\s+\d+\s.*\n?)+)")
    epochs = [line.split() for line in table[1].strip().splitlines()]
    assert [int(e[0]) for e in epochs] == [1, 2, 3, 4, 5]
    assert percent(epochs[-1][4]) >= 0.99, epochs[-1]


def test_03_one_cycle_beats_a_constant_rate():
    """Section 4: "On the same budget, one-cycle SGD ends ahead of both constant-rate runs"."""
    table = output_matching("03_training.ipynb", r"^recipe \(1 epoch each\).*\n((?:.+\n?){3})")
    acc = {}
    for line in table[1].strip().splitlines():
        name, test_acc = re.match(r"^(.+?)\s+([\d.]+%)", line).groups()
        acc[name] = percent(test_acc)
    assert set(acc) == {"Adam, constant 1e-3", "SGD, constant 0.1", "SGD, one-cycle to 0.1"}
    for name in ("Adam, constant 1e-3", "SGD, constant 0.1"):
        assert acc["SGD, one-cycle to 0.1"] > acc[name], acc


# --- 05: your own digit -------------------------------------------------------------------------------


def test_05_naive_resize_misreads_the_photo():
    """Section 2: the naive resize turns the photo's 4 into a smudge; the network is guessing."""
    found = output_matching("05_predict_panel.ipynb", r"naive resize: the network answers (\d) .*the photo shows a (\d)")
    assert found[1] != found[2], found[0]


def test_05_pipeline_reads_the_photo():
    """Section 4: through the pipeline, the same network reads the same photo right, and is sure."""
    found = output_matching("05_predict_panel.ipynb",
                            r"through the pipeline: (\d) \(([\d.]+)% sure\); the photo shows a (\d)")
    assert found[1] == found[3] and float(found[2]) > 90, found[0]


def test_05_all_ten_examples():
    """Section 5: the pipeline reads all ten examples; the naive resize at most half."""
    table = output_matching("05_predict_panel.ipynb", r"^file\s+shows\s+pipeline\s+naive\n((?:.+\n?)+)")
    rows = [line.split() for line in table[1].strip().splitlines()]   # file, shows, pipeline, sure, naive
    assert len(rows) == 10
    assert sum(r[1] == r[2] for r in rows) == 10, rows
    assert sum(r[1] == r[4] for r in rows) <= 5, rows


def test_05_upload_scores():
    """Section 6: "The naive resize is barely better than guessing. Through the pipeline the network
    is within a point or so of its accuracy on MNIST itself"."""
    found = output_matching("05_predict_panel.ipynb",
                            r"^all\s+(\d+)\s+([\d.]+%)\s+([\d.]+%)\s+([\d.]+%)\s+(\d+)$")
    n, mnist, naive, pipeline = int(found[1]), percent(found[2]), percent(found[3]), percent(found[4])
    assert n == 240
    assert pipeline >= 0.95 and pipeline >= mnist - 0.02, found[0]
    assert naive <= 0.5, found[0]
