"""The class benchmark's smoke run: two students, each in their own kernel, run notebooks 01, 03 and 05
at the same moment. Checks that the class finishes, learns, and that every figure is produced; how
fast or how lean is for `make bench` to print, not for a test to judge."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.mnist, pytest.mark.slow]


@pytest.fixture(scope="module")
def class_of_two(tmp_path_factory, mnist_ready):
    out = tmp_path_factory.mktemp("classroom") / "classroom.json"
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "classroom.py"), "--students", "2",
                          "--out", str(out), "--timeout", "900"],
                         cwd=REPO, capture_output=True, text=True, timeout=1500)
    assert run.returncode == 0, f"classroom.py failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return json.loads(out.read_text()), run.stdout


def test_every_student_finishes_and_learns(class_of_two):
    summary, _ = class_of_two
    assert summary["failures"] == 0
    assert [s["error"] for s in summary["per_student"]] == [None, None]
    for student in summary["per_student"]:
        assert set(student["per_notebook_s"]) == {"01_mnist_data", "03_training", "05_predict_panel"}
        # notebook 03's recipe: 99.0% on one thread, 98.95% on two (the sums' order moves the last digits)
        assert student["test_acc"] >= 0.989, student
        assert student["threads"] and student["threads"].split()[0].isdigit(), student["threads"]
    assert summary["alone_test_acc"] >= 0.989


def test_the_figures_are_consistent(class_of_two):
    summary, stdout = class_of_two
    assert summary["students"] == 2
    assert summary["class_s"] >= max(s["wall_s"] for s in summary["per_student"]) - 0.5
    assert summary["efficiency"] == pytest.approx(2 * summary["alone_s"] / summary["class_s"], rel=0.01)
    # a fresh kernel per student per notebook, and only the class's own: other kernels on the
    # machine (a neighbour's notebook, another test run) are never counted
    assert summary["kernels_seen"] == 2 * 3
    assert 0 < summary["class_pss_mb_per_student"] < 4000
    assert 0 < summary["kernel_uss_peak_mb"] < 4000
    assert summary["kernel_pss_peak_mb"] > 0
    assert summary["peak_in_use_mb"] >= summary["idle_in_use_mb"]
    assert "class efficiency" in stdout and "per student" in stdout


def test_each_kernels_cpu_seconds_are_counted_per_notebook(class_of_two):
    """CPU-seconds per student (issue 28) are the kernels' own rusage, read by the probe each notebook ends with:
    present for every notebook, more than the start-up alone where the notebook trains, never more than its
    wall time on every CPU of the machine, and summed per student as the summary says."""
    import os
    import statistics

    summary, stdout = class_of_two
    totals = []
    for student in summary["per_student"]:
        cpu, wall = student["per_notebook_cpu_s"], student["per_notebook_s"]
        assert set(cpu) == set(wall) == {"01_mnist_data", "03_training", "05_predict_panel"}
        for stem, seconds in cpu.items():
            assert 0 < seconds <= wall[stem] * os.cpu_count() + 1, (stem, seconds, wall[stem])
        assert cpu["03_training"] > cpu["01_mnist_data"]     # 03 trains a network; 01 only looks at data
        totals.append(sum(cpu.values()))
    assert summary["cpu_s_per_student"]["median"] == pytest.approx(statistics.median(totals), abs=0.11)
    assert summary["cpu_s_per_student"]["max"] == pytest.approx(max(totals), abs=0.11)
    assert set(summary["alone_cpu_s"]) == {"01_mnist_data", "03_training", "05_predict_panel"}
    assert "CPU per student" in stdout


def test_an_unknown_notebook_is_one_line_before_any_student_starts():
    """--notebooks also picks the hub's notebooks (the heaviest lessons' column of the resource table)."""
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "classroom.py"), "--hub", "--notebooks",
                          "02_architecture,07_galery"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines()[-1].endswith(
        "error: no notebook 07_galery in notebooks/: give stems such as 03_training")
