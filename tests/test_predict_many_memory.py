"""benchmarks/predict_many_memory.py at a tiny size (issue 16: one ``lenet predict`` over many
files streams, and its peak memory does not grow with the number of files)."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    path = REPO / "benchmarks" / "predict_many_memory.py"
    spec = importlib.util.spec_from_file_location("lenet_test_predict_many_memory", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_variants_are_distinct_png_files_named_after_their_digit(bench, tmp_path):
    files = bench.make_files(tmp_path, 12)
    assert [p.name[0] for p in files[:10]] == [p.name[0] for p in sorted((REPO / "data" / "examples").glob("*.*"))
                                                if p.suffix in (".png", ".jpg")]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in files)
    assert len({p.read_bytes() for p in files}) == 12              # variants, not copies


def test_the_watch_sees_which_files_were_opened(bench, tmp_path):
    files = bench.make_files(tmp_path, 3)
    watch = bench.OpenWatch(tmp_path)
    try:
        files[1].read_bytes()
        deadline = time.monotonic() + 5
        while files[1].name not in watch.first_open and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        watch.close()
    assert set(watch.first_open) == {files[1].name}


def test_one_call_over_a_few_files_answers_every_file_as_json_lines(bench, tmp_path):
    files = bench.make_files(tmp_path, 4)
    r = bench.run_predict(REPO, "jsonl", files)
    assert r["exit_status"] == 0, r["stderr_tail"]
    assert r["results"] == r["answered"] == 4
    assert r["peak_rss_mb"] > 50                                    # torch alone is more: the figure is real
    assert 1 <= r["files_opened_before_first_result"] <= 4
    assert r["last_file_opened_s"] is not None and r["first_result_s"] is not None


def test_the_recorded_run_streams_and_stays_flat():
    report = json.loads((REPO / "benchmarks" / "results" / "predict_many_memory.json").read_text())
    runs = {(r["code"], r["format"]): r for r in report["runs"]}
    assert report["files"] == 2000
    for fmt in ("json", "jsonl"):
        after = runs["after", fmt]
        assert after["answered"] + (after["results"] - after["answered"]) == after["files"] == 2000
        assert after["streams"] and after["files_opened_before_first_result"] < 2000
        assert after["peak_rss_mb"] < after["peak_rss_one_file_mb"] + 100, after   # flat in the number of files
    before = runs["before", "json"]
    assert not before["streams"] and before["peak_rss_mb"] > runs["after", "json"]["peak_rss_mb"]
