"""Notebook 04b's numbers, checked against its executed outputs, the result file and the package."""

from __future__ import annotations

import json
import re
import statistics

import pytest

from lenet_utils.lessons.paper1998_views import run_label
from lenet_utils.paper1998 import PAPER_CHECKPOINT, load_paper_checkpoint
from lenet_utils.paper1998.model import LeNet5Paper
from lenet_utils.paper1998.train import recipe_of
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
        line = next(line for line in text.splitlines() if line.startswith(run_label(run) + " "))
        assert f"{100 * last['test_error']:.2f}%" in line and str(len(run["history"])) in line.split()
    for name, s in RESULTS["summary"].items():
        sd = f" ± {100 * s['sd']:.2f}%" if s["sd"] is not None else ""
        assert f"{name}: {100 * s['mean']:.2f}%{sd} over seeds {s['seeds']}" in text


def test_04b_shipped_error_and_mistakes_are_the_checkpoints():
    found = output_matching(NB, r"shipped 1998 network: test error ([\d.]+)%, (\d+) mistakes")
    _, payload = load_paper_checkpoint(PAPER_CHECKPOINT)
    error = payload["metrics"]["test_error"]
    assert float(found[1]) == pytest.approx(100 * error, abs=0.005)
    assert int(found[2]) == round(error * 10_000)
    finished = [r for r in RESULTS["runs"] if r["finished"] and r["recipe"]["optimizer"] == "sdlm"
                and recipe_of(r)["eta_scale"] == 1]
    assert error == min(r["history"][-1]["test_error"] for r in finished)   # the best faithful run ships


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


def _runs(distort: bool, curvature: str, batch: int = 1, eta_scale: float = 1.0) -> list[dict]:
    """The SDLM runs of one recipe (recipe_of: rows from before an option ran as the code then did)."""
    wanted = {"optimizer": "sdlm", "batch_size": batch, "distort": distort, "curvature": curvature,
              "eta_scale": eta_scale}
    return [r for r in RESULTS["runs"] if all(recipe_of(r)[k] == v for k, v in wanted.items())]


def _pct(x: float, digits: int = 2) -> str:
    return f"{100 * x:.{digits}f}%"


def test_04b_what_came_out_is_the_result_file():
    """Section 4's figures, each read from benchmarks/results/paper1998.json: the paper's; the time a pass took; per
    recipe (one image at a time without and with distortions, the literal reading, batches of 64) each seed's final
    test error, their mean and s.d.; the training error after pass 19; the first pass's range of rates."""
    text = " ".join(markdown(NB).split())
    paper = RESULTS["paper"]
    assert (f"The paper: test error stable at **{100 * paper['no_distortions']:.2f}%** after about ten passes, "
            f"training error {100 * paper['train_error_pass_19']:.2f}% after 19; **{100 * paper['distortions']:g}%** "
            f"with distortions. The best public reproduction we know reaches {100 * paper['best_public']:.2f}%."
            ) in text
    ones = [r for r in RESULTS["runs"] if r["recipe"]["batch_size"] == 1]
    seconds = [h["seconds"] for r in ones for h in r["history"]]
    passes = {r["recipe"]["passes"] for r in ones}
    assert {r["threads"] for r in ones} == {1} and all(r["finished"] for r in ones) and len(passes) == 1
    assert (f"One image at a time, {passes.pop()} passes over all 60,000 training digits, one thread per run, "
            f"at most two runs side by side (a pass took {min(seconds):.0f} to {max(seconds):.0f} s here)") in text

    def last(r: dict) -> float:
        return r["history"][-1]["test_error"]

    def seeds(rs: list[dict]) -> str:
        return ", ".join(str(r["recipe"]["seed"]) for r in rs)

    plain, distorted, literal = _runs(False, "once"), _runs(True, "once"), _runs(False, "each_pass")
    mean, sd = statistics.mean(map(last, plain)), statistics.stdev(map(last, plain))
    train19 = [r["history"][18]["train_error"] for r in plain]
    assert len(plain) >= 3 and len(distorted) >= 3 and len(literal) == 1
    assert (f"seeds {seeds(plain)} ended at {', '.join(_pct(last(r)) for r in plain)}, mean **{_pct(mean)} ± "
            f"{100 * sd:.2f}** (s.d.), {100 * (mean - paper['no_distortions']):.2f} percentage points above the "
            f"paper's {_pct(paper['no_distortions'])} and {100 * abs(mean - paper['best_public']):.2f} "
            f"{'above' if mean > paper['best_public'] else 'below'} the best public reproduction's "
            f"{_pct(paper['best_public'])}; training error after pass 19 {_pct(min(train19))} to "
            f"{_pct(max(train19))} (the paper: {_pct(paper['train_error_pass_19'])})") in text
    doubled = _runs(False, "once", eta_scale=2.0)
    mean2, sd2 = statistics.mean(map(last, doubled)), statistics.stdev(map(last, doubled))
    train2 = [r["history"][18]["train_error"] for r in doubled]
    assert len(doubled) >= 3 and all(r["finished"] for r in doubled)
    assert (f"**the paper's schedule of eta doubled** (`eta_scale=2`), otherwise the same: seeds {seeds(doubled)} "
            f"ended at {', '.join(_pct(last(r)) for r in doubled)}, mean **{_pct(mean2)} ± {100 * sd2:.2f}**; training "
            f"error after pass 19 {_pct(min(train2))} to {_pct(max(train2))}") in text
    same = [r for r in plain if r["recipe"]["seed"] in {d["recipe"]["seed"] for d in doubled}]
    diff = mean2 - statistics.mean(map(last, same))
    assert (f"That lowered the training error after pass 19 to {_pct(min(train2))}-{_pct(max(train2))}, still above "
            f"the paper's {_pct(paper['train_error_pass_19'])}, and moved the mean test error from "
            f"{_pct(statistics.mean(map(last, same)))} to {_pct(mean2)} on the same seeds ({100 * diff:+.2f} points), "
            f"{'less' if abs(diff) < max(sd, sd2) else 'more'} than the spread between seeds (s.d. {100 * sd:.2f} and "
            f"{100 * sd2:.2f}).") in text
    assert max(train2) < min(train19)          # the text's "lowered": every doubled seed fits better than every other
    mean_distorted = statistics.mean(map(last, distorted))
    assert (f"**with distortions**, the paper's schedule: seeds {seeds(distorted)} ended at "
            f"{', '.join(_pct(last(r)) for r in distorted)}, mean **{_pct(mean_distorted)} ± "
            f"{100 * statistics.stdev(map(last, distorted)):.2f}**, against the paper's "
            f"{100 * paper['distortions']:g}%") in text
    h = literal[0]["history"]
    assert (f"(seed {literal[0]['recipe']['seed']}): {_pct(h[0]['test_error'])} after pass 1, "
            f"{_pct(h[1]['test_error'])} after pass 2, {_pct(h[-1]['test_error'])} after pass {len(h)}") in text
    b64 = _runs(False, "each_pass", 64)
    diverged, finished = [r for r in b64 if not r["finished"]], [r for r in b64 if r["finished"]]
    assert (f"seed {diverged[0]['recipe']['seed']} **diverged** in its first pass (test error "
            f"{_pct(last(diverged[0]), 1)}), seeds {' and '.join(str(r['recipe']['seed']) for r in finished)} ended "
            f"at {' and '.join(_pct(last(r)) for r in finished)} after {len(finished[0]['history'])} passes (mean "
            f"{_pct(statistics.mean(map(last, finished)))})") in text
    assert (f"**The targets are not reached**: {_pct(mean)} against {_pct(paper['no_distortions'])} without "
            f"distortions, {_pct(mean_distorted)} against {100 * paper['distortions']:g}% with them ({_pct(mean2)} "
            f"without distortions with the schedule of eta doubled)") in text
    assert (f"({_pct(min(train19))} to {_pct(max(train19))} training error after pass 19 against "
            f"{_pct(paper['train_error_pass_19'])})") in text
    rate_min = min(r["history"][0]["rate_min"] for r in plain)
    rate_max = max(r["history"][0]["rate_max"] for r in plain)
    assert f"ours ran from {rate_min:.0e} to {rate_max:.3f}" in text
    # the bulk of the network (C5 and F6) against the rest, from the start's rates per layer (seed 0)
    start = RESULTS["curvature_drift"]["start_rates"]
    bulk = [v for k, v in start.items() if k.split(".")[0] in ("c5", "f6")]
    bulk_n = sum(p.numel() for n, p in LeNet5Paper().named_parameters() if n.split(".")[0] in ("c5", "f6"))
    assert (f"C5 and F6, {bulk_n:,} of the 60,000 parameters, started between {min(v['min'] for v in bulk):.1e} and "
            f"{max(v['max'] for v in bulk):.3f} (seed 0, `curvature_drift` in the result file); the smaller rates are "
            f"in the other {60_000 - bulk_n:,}, those of C1, S2, C3 and S4.") in text
    rest = [v for k, v in start.items() if k.split(".")[0] not in ("c5", "f6")]
    assert min(v["min"] for v in rest) < min(v["min"] for v in bulk) < 7e-5 * 2     # near the paper's low end


def test_04b_the_paper_network_counts_as_the_text_says():
    """The summary: "LeNet5Paper has the paper's 60,000 parameters and 340,908 connections", as printed."""
    found = output_matching(NB, r"total: ([\d,]+) trainable parameters, ([\d,]+) connections")
    assert (f"LeNet5Paper has the paper's {found[1]} parameters and {found[2]} connections"
            in " ".join(markdown(NB).split()))
