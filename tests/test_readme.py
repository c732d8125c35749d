"""The README for the person arriving: its order, its picture, and figures equal to the measured ones."""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
LATEST = json.loads((REPO / "benchmarks" / "results" / "latest.json").read_text())


def test_sections_come_in_the_order_a_newcomer_needs():
    headings = re.findall(r"^## (.+)$", README, re.M)
    order = ["Two commands", "What you need", "The course", "Troubleshooting"]
    assert [h for h in headings if h in order] == order
    assert README.index("make lab") < README.index("## What you need")


def test_the_picture_is_there_and_small():
    (image,) = re.findall(r"!\[[^\]]+\]\(([^)]+)\)", README)
    path = REPO / image
    assert path.is_file() and path.stat().st_size < 150_000
    assert (REPO / "scripts" / "readme_figure.py").is_file()   # it is made by a script, from the package


def test_no_build_machine_is_mentioned():
    assert not re.search(r"build machine|CI machine", README, re.I)
    assert "build machines" not in (REPO / "Makefile").read_text()


def test_the_notebook_timings_are_the_measured_ones_and_say_where_they_come_from():
    seconds = LATEST["details"]["notebooks"]["seconds"]
    # a lesson added after the last `make bench` quotes its own timing, until make bench times it too
    by_hand = json.loads((REPO / "benchmarks" / "results" / "by_hand.json").read_text())["notebook"]
    if "02b_backprop.ipynb" not in seconds:
        assert f"load average {by_hand['load_average_start'][0]:.1f}, not quiet" in README
        teaching = (REPO / "docs" / "teaching.md").read_text()
        assert f"| `02b_backprop` | {round(by_hand['seconds']['02b_backprop.ipynb'])} s¹ |" in teaching
    seconds = {**by_hand["seconds"], **seconds}
    rows = {m[0]: m[1] for m in re.findall(r"^\| \[`(\d\d[a-z]?_\w+)`\].*?\| (\d+) s \|", README, re.M)}
    assert rows == {name.removesuffix(".ipynb"): str(round(s)) for name, s in seconds.items()}
    assert "a 2-core, 24 GB Linux VM, quiet" in README
    assert LATEST["machine"]["logical_cpus"] == 2


def test_the_speed_summary_is_the_measured_one():
    assert f"in {LATEST['time_to_99_s_median']:.1f} s (median)" in README
    assert f"{LATEST['epoch_speedup_vs_dataloader']:.2f}x faster" in README


def test_doctor_is_offered_first_in_troubleshooting():
    trouble = README.split("## Troubleshooting", 1)[1]
    first = trouble.split("\n\n")[1]
    assert "python -m lenet_utils doctor" in first
    for words in ("LENET_MNIST_DIR", "LAB_ARGS=", "APP_PORT", "HUB_PORT", "WSL", "MPS", "OMP_NUM_THREADS"):
        assert words in trouble, words


def test_the_upload_accuracy_table_is_the_measured_one():
    """benchmarks/README.md's table, row by row, against results/upload_accuracy.json (what the run printed)."""
    bench = (REPO / "benchmarks" / "README.md").read_text()
    runs = json.loads((REPO / "benchmarks" / "results" / "upload_accuracy.json").read_text())
    table = bench.split("| upload style | digits |", 1)[1].split("\n\n", 1)[0]
    rows = [[c.strip(" *") for c in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    expected = [*runs["uploads"]["by_style"].values(), runs["uploads"]]
    assert len(rows) == len(expected) == 7
    for row, want in zip(rows, expected):
        assert row[1:] == [f"{want['n']:,}", f"{want['mnist']:.2%}", f"{want['naive']:.2%}",
                           f"{want['pipeline']:.2%}"], row
    assert f"reads {runs['desk']['pipeline']:.2%} of them" in bench
    assert f"against {runs['desk']['naive']:.2%} for a naive resize" in bench
    refused = runs["uploads"]["refused"]
    assert f"{('None', 'One', 'Two', 'Three')[refused]} of the 10,000 uploads" in bench
    assert f"test accuracy {runs['uploads']['mnist']:.2%})" in bench       # the shipped model's, on MNIST's own


def test_the_picture_script_still_draws_it(tmp_path):
    """scripts/readme_figure.py runs on the package as it is now (the committed PNG is its output)."""
    import subprocess
    import sys

    out = tmp_path / "inside.png"
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "readme_figure.py"), "--out", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size < 150_000
    assert list(tmp_path.iterdir()) == [out]          # nothing else written into the current folder


def test_the_install_figures_are_the_measured_ones():
    """make lab's .venv size and first set-up time in the README come from benchmarks/results/install.json."""
    result = json.loads((REPO / "benchmarks" / "results" / "install.json").read_text())
    readme = (REPO / "README.md").read_text()
    after, before = result["after"], result["before"]
    assert f"**{after['venv_du_sh'][:-1]} GB** for `make lab` ({before['venv_du_sh'][:-1]} GB before" in readme
    minutes, seconds = divmod(round(after["setup_seconds"]), 60)
    b_minutes, b_seconds = divmod(round(before["setup_seconds"]), 60)
    assert f"**{minutes} min {seconds} s**" in readme and f"({b_minutes} min {b_seconds} s before" in readme
    assert not after["needs_npm"] and after["venv_bytes"] < before["venv_bytes"]
    for side in (before, after):
        assert {"commit", "load_start", "load_end"} <= set(side) and result["date"]


def test_the_shipped_models_accuracy_is_its_checkpoints():
    """The README quotes the shipped model's test accuracy as its checkpoint records it (scored once)."""
    from lenet_utils.checkpoints import pretrained_checkpoint

    metrics = pretrained_checkpoint().metrics
    quoted = re.search(r"shipped model \(`lenet_utils/pretrained/`, ([\d.]+)% on MNIST's test set", README)
    assert quoted, "the README no longer quotes the shipped model's test accuracy"
    assert quoted.group(1) == f"{100 * metrics['test_acc']:.2f}"
