"""Notebook 04b's numbers, checked against its executed outputs, the result file and the package."""

from __future__ import annotations

import json
import re

import pytest

from lenet_utils.paper1998 import PAPER_CHECKPOINT, load_paper_checkpoint
from tests.test_notebook_claims import REPO, markdown, output_matching

NB = "04b_lenet1998.ipynb"
RESULTS = json.loads((REPO / "benchmarks" / "results" / "paper1998.json").read_text())


def test_04b_counts_are_the_papers():
    found = output_matching(NB, r"total: ([\d,]+) trainable parameters, ([\d,]+) connections")
    assert found[1] == "60,000" and found[2] == "340,908"
    table = output_matching(NB, r"^layer\s+output[\s\S]*?^output.*$").group(0)
    for line in table.splitlines()[1:]:
        cells = line.split()
        assert cells[2] == cells[3] and cells[4] == cells[5], line      # ours == the paper's, per layer


def test_04b_map_loss_by_hand_equals_the_code():
    found = output_matching(NB, r"by hand ([\d.]+), map_loss ([\d.]+)")
    assert found[1] == found[2]


def test_04b_short_run_beats_chance():
    passes = re.findall(r"pass (\d): eta [\d.]+, test error ([\d.]+)%", output_matching(NB, r"pass 1: eta").string)
    assert [p for p, _ in passes] == ["1", "2"]
    assert float(passes[-1][1]) < 50.0                      # chance is 90%


def test_04b_result_table_is_the_result_file():
    text = output_matching(NB, r"^run\s+passes\s+test error").string
    for run in RESULTS["runs"]:
        last = run["history"][-1]
        row = f"batch {run['recipe']['batch_size']}, seed {run['recipe']['seed']} "
        line = next(line for line in text.splitlines() if row in line)
        assert f"{100 * last['test_error']:.2f}%" in line and str(len(run["history"])) in line.split()


def test_04b_shipped_error_and_mistakes_are_the_checkpoints():
    found = output_matching(NB, r"shipped 1998 network: test error ([\d.]+)%, (\d+) mistakes")
    _, payload = load_paper_checkpoint(PAPER_CHECKPOINT)
    error = payload["metrics"]["test_error"]
    assert float(found[1]) == pytest.approx(100 * error, abs=0.005)
    assert int(found[2]) == round(error * 10_000)
    finished = [r for r in RESULTS["runs"] if r["finished"] and r["recipe"]["optimizer"] == "sdlm"]
    assert error == min(r["history"][-1]["test_error"] for r in finished)   # the best finished run ships


def test_04b_side_by_side():
    table = output_matching(NB, r"^\s+1998\s+modern[\s\S]*ECE.*$").group(0)
    params = re.search(r"trainable parameters\s+([\d,]+)\s+([\d,]+)", table)
    assert params[1] == "60,000" and params[2] == "61,706"
    assert re.search(r"connections\s+340,908\s+[\d,]+", table)


def test_04b_text_quotes_the_result_file():
    text = markdown(NB)
    summary = RESULTS["summary"]
    for name, s in summary.items():
        if name.startswith("sdlm-plain"):
            assert f"{100 * s['mean']:.2f}%" in text, name
    assert "0.95%" in text and "0.8%" in text and "1.07%" in text
