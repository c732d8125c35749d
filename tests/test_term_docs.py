"""docs/teaching.md's "Run a term" quotes benchmarks/results/term_e2e.json: every timing, with the
result's date, commit and load average (benchmarks/term_e2e.py writes the file, and the table)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from term_e2e import RESULT, STEPS, provenance, timing_table  # noqa: E402


def result() -> dict:
    return json.loads(RESULT.read_text())


def section() -> str:
    text = (REPO / "docs" / "teaching.md").read_text()
    start = text.index("## Run a term")
    return text[start:text.index("\n## ", start + 10)]


def test_the_result_file_records_date_commit_load_and_every_step():
    r = result()
    assert r["date"] and r["commit"] and len(r["load_average_start"]) == 3 and r["cores"]
    assert set(STEPS) <= {"hub_start", *r["timings_s"]}
    assert all(v > 0 for v in r["timings_s"].values())


def test_the_docs_quote_the_result_files_timings_and_provenance():
    r = result()
    assert timing_table(r) in section(), "docs/teaching.md's term timings differ from term_e2e.json: paste " \
        "benchmarks/term_e2e.py's timing_table()"
    assert provenance(r) in section()


def test_the_docs_gradebook_is_the_result_files():
    totals = result()["gradebook_totals"]
    assert totals["alice"]["points"] == 4 and totals["alice"]["late"] == "no"
    assert totals["bob"]["points"] == 2 and totals["bob"]["late"] == "yes"
    assert "4 / 4" in section() and "2 / 4" in section()
