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
    # a student needs make lab only: make test (apt, npm, Chromium) waits under "For contributors"
    contributors = README.index("### For contributors")
    assert README.index("make lab") < contributors < README.index("make test") < README.index("## What you need")


def test_the_first_screen_says_who_it_is_for_what_they_can_do_and_how_long():
    first = README.split("![", 1)[0]
    for words in ("**For** students who", "**At the end you can**", "**How long:**", "<!-- fig:inclass.total -->",
                  "<!-- fig:notebooks_total -->"):
        assert words in first, words
    caption = README.split("docs/images/inside_lenet.png)", 1)[1].split("\n\n")[1]
    assert "shipped with the course (not one you trained)" in caption
    assert "read by the network you trained" not in README


def test_the_picture_is_there_and_small():
    (image,) = [i for i in re.findall(r"!\[[^\]]+\]\(([^)]+)\)", README) if not i.startswith("https:")]  # badges aside
    path = REPO / image
    assert path.is_file() and path.stat().st_size < 150_000
    assert (REPO / "scripts" / "readme_figure.py").is_file()   # it is made by a script, from the package


def test_no_build_machine_is_mentioned():
    assert not re.search(r"build machine|CI machine", README, re.I)
    assert "build machines" not in (REPO / "Makefile").read_text()


def _marked(name: str) -> str:
    """The README's text for figure ``name`` (rendered by scripts/figures.py; tests/test_figures.py checks it)."""
    found = re.findall(rf"<!-- fig:{re.escape(name)} -->(.*?)<!-- /fig -->", README, re.S)
    assert found, f"the README no longer quotes the figure {name!r}"
    return found[0]


def test_the_course_table_lists_every_lesson_with_its_measured_time():
    rows = re.findall(r"^\| \[`(\d\d[a-z]?_\w+)`\]\(notebooks/\1\.ipynb\) \|.*?\| <!-- fig:runs\.\1 -->", README, re.M)
    lessons = sorted(p.stem for p in (REPO / "notebooks").glob("0*.ipynb") if ".solutions" not in p.name)
    assert rows == lessons
    seconds = LATEST["details"]["notebooks"]["seconds"]
    for name, s in seconds.items():
        assert _marked(f"runs.{name.removesuffix('.ipynb')}") == f"{s:.0f} s"
    assert "**a 2-core, 24 GB Linux VM**" in README
    assert _marked("bench.load") == f"{LATEST['machine']['load_average_start'][0]:.1f}"
    assert LATEST["machine"]["logical_cpus"] == 2


def test_the_speed_summary_is_the_measured_one():
    """How many seeds the default recipe takes past 99%, their final range and the fastest: from run.py."""
    default = LATEST["details"]["time_to_99"]["recipes"]["default"]
    assert _marked("time_to_99.reached") == f"{default['seeds_reaching_target']} of {len(default['runs'])}"
    finals = [100 * r["final_test_acc"] for r in default["runs"]]
    assert _marked("time_to_99.final") == f"{min(finals):.2f}-{max(finals):.2f}%"
    fastest = min((r["seconds_to_target"] for r in default["runs"] if r["seconds_to_target"] is not None),
                  default=None)
    assert _marked("time_to_99.fastest") == ("not reached by half the seeds" if fastest is None
                                            else f"{fastest:.1f} s")
    assert _marked("epoch_speedup") == f"{LATEST['epoch_speedup_vs_dataloader']:.2f}x"


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
    after, before = result["after"], result["before"]
    assert _marked("install.venv") == f"{after['venv_du_sh'][:-1]} GB"
    assert _marked("install.venv_before") == f"{before['venv_du_sh'][:-1]} GB"
    minutes, seconds = divmod(round(after["setup_seconds"]), 60)
    assert _marked("install.setup") == f"{minutes} min {seconds} s"
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
