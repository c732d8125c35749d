"""Every figure the docs quote is rendered from benchmarks/results (scripts/figures.py), and no new one slips in.

- each document equals its rendering from the committed result files;
- changing a number in a result file makes that check fail until ``scripts/figures.py --write`` runs
  (shown on a temporary copy of the repository);
- a figure with a unit (s, min, ms, µs, GB, MB, %, CPU-s, x) outside the markers is either on a line
  that calls it an estimate, or on the list of figures that are not measurements
  (tests/data/unbacked_figures.txt: targets and settings, facts of the data or the machine, figures
  another test checks against a result): a new unbacked figure fails here.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("figures", REPO / "scripts" / "figures.py")
figures = importlib.util.module_from_spec(_spec)
sys.modules["figures"] = figures
_spec.loader.exec_module(figures)

UNBACKED = REPO / "tests" / "data" / "unbacked_figures.txt"
# Sections another change owns and checks itself (tests/test_readme.py checks this one against its result).
SKIPPED_SECTIONS = {"benchmarks/README.md": ["## The predict panel: uploads read right, and how fast"]}
UNIT = re.compile(r"(?<![\w.\-/#=])\d[\d,]*(?:\.\d+)?(?:\s?(?:-|to)\s?\d[\d,]*(?:\.\d+)?)?\s?"
                  r"(?:µs|ms|s|min|minutes|seconds|hours|GB|MB|GiB|MiB|%|CPU-s|CPU-seconds|x|students per)(?![\w])")


def test_every_document_equals_its_rendering_from_the_results():
    assert figures.render_documents() == [], "run: python scripts/figures.py --write"
    stale = [str(p) for p, stem in figures.marked_notebooks() if figures.render_notebook(p, stem)]
    assert stale == [], "run: python scripts/figures.py --write"


def test_every_marker_names_a_figure_and_every_document_has_some():
    for name in figures.DOCUMENTS[:2]:
        assert figures.MARKER.search((REPO / name).read_text()), name
    for name in figures.DOCUMENTS:
        for marker in figures.MARKER.finditer((REPO / name).read_text()):
            figures.value(marker.group(1))       # raises FigureError for an unknown name or a missing value


def test_every_page_of_the_docs_is_guarded():
    """A new page under docs/ (or a README beside the code) is one of the documents checked here."""
    tracked = subprocess.run(["git", "ls-files", "docs/*.md", "*/README.md"], cwd=REPO, capture_output=True,
                             text=True, check=True).stdout.split()
    pages = {p for p in tracked if not p.startswith("tests/")}      # tests/data holds third parties' files
    assert pages <= set(figures.DOCUMENTS), sorted(pages - set(figures.DOCUMENTS))


def test_a_changed_result_fails_until_the_docs_follow(tmp_path):
    """A temporary copy of the repository: change latest.json's fastest time to 99%, the check fails; --write
    fixes it."""
    copy = tmp_path / "repo"
    sources = {f.source for f in figures.FIGURES.values() if "/" in f.source}      # data/..., hub/...
    for part in ["scripts", "benchmarks", "notebooks", *sources, *figures.DOCUMENTS]:
        src = REPO / part
        dst = copy / part
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dst)
    script = copy / "scripts" / "figures.py"
    check = [sys.executable, str(script)]
    assert subprocess.run(check, capture_output=True, text=True).returncode == 0

    latest = copy / "benchmarks" / "results" / "latest.json"
    doc = json.loads(latest.read_text())
    fastest = doc["details"]["time_to_99"]["recipes"]["default"]["seconds_to_target"]
    old = fastest["min"] if fastest["min"] is not None else 10.0
    fastest["min"] = old + 4.44
    doc["details"]["notebooks"]["seconds"]["01_mnist_data.ipynb"] = 123.4
    latest.write_text(json.dumps(doc))
    live = copy / "benchmarks" / "results" / "live_plot.json"          # a result quoted by an appendix
    live.write_text(json.dumps({**json.loads(live.read_text()), "drawing_share": [0.05, 0.06]}))
    failed = subprocess.run(check, capture_output=True, text=True)
    assert failed.returncode == 1 and "README.md" in failed.stderr, failed.stderr
    assert "01_mnist_data.ipynb" in failed.stderr           # the notebook's first line is stale too
    assert "docs/appendix/live_plot.md" in failed.stderr

    wrote = subprocess.run([*check, "--write"], capture_output=True, text=True)
    assert wrote.returncode == 0, wrote.stderr
    readme = (copy / "README.md").read_text()
    assert f"-->{old + 4.44:.1f} s<!--" in readme and f"-->{old:.1f} s<!--" not in readme
    assert "-->123 s<!--" in (copy / "notebooks" / "01_mnist_data.ipynb").read_text()
    assert "-->5.0-6.0%<!--" in (copy / "docs" / "appendix" / "live_plot.md").read_text()
    assert "drawing took 5.0-6.0% of training time" in (copy / "benchmarks" / "README.md").read_text()
    assert subprocess.run(check, capture_output=True, text=True).returncode == 0


def test_a_missing_value_is_a_clear_error(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "latest.json").write_text("{}")
    with pytest.raises(figures.FigureError, match="latest.json has no 'time_to_99_s_median'; rerun"):
        figures.value("time_to_99", results)
    with pytest.raises(figures.FigureError, match="no figure named 'nope'"):
        figures.value("nope", results)
    assert figures.value("runs.01_mnist_data", results) == figures.NOT_TIMED    # a lesson not yet timed says so
    with pytest.raises(figures.FigureError, match="table 'table.bench_details': its result file has no 'details'"):
        figures.value("table.bench_details", results)


def test_a_lessons_first_cell_gets_one_line_in_place_of_its_time_paragraph():
    source = "# 09 · A lesson\n\nIntro.\n\n**Time:** about a minute.\n\n*Course map*"
    once = figures.render_first_cell(source, "01_mnist_data")
    assert "**Time:**" not in once and once.count("**Runs in") == 1
    assert once.split("\n\n")[2].startswith("**Runs in:** <!-- fig:runs.01_mnist_data -->")
    assert figures.render_first_cell(once, "01_mnist_data") == once       # rendering twice changes nothing
    assert "**In class:** <!-- fig:inclass.01_mnist_data -->20 min<!-- /fig -->" in once


def _figures_in(name: str, text: str, pattern: re.Pattern[str] = UNIT) -> list[tuple[str, str]]:
    """(context, figure) for each figure with a unit (or ``pattern``) outside the markers, code blocks and estimate
    lines."""
    for heading in SKIPPED_SECTIONS.get(name, []):
        start = text.index(heading)
        end = text.find("\n## ", start + 1)
        text = text[:start] + text[end if end != -1 else len(text):]
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = figures.MARKER.sub("", text)
    found = []
    for line in text.splitlines():
        if "estimate" in line.lower():
            continue            # an estimate, marked as one with its reasoning on the same line
        for m in pattern.finditer(line):
            found.append((line[max(0, m.start() - 30):m.start()].strip(), m.group(0)))
    return found


def _unbacked(name: str) -> list[str]:
    """Document ``name``'s unbacked figures, as 'document | context figure' lines."""
    return [f"{name} | {left} {fig}".replace("|  ", "| ") for left, fig in _figures_in(name, (REPO / name).read_text())]


def test_no_new_figure_without_a_result_behind_it():
    listed = Counter(line for line in UNBACKED.read_text().splitlines() if line and not line.startswith("#"))
    now = Counter(f for name in figures.DOCUMENTS for f in _unbacked(name))
    new = sorted((now - listed).elements())
    gone = sorted((listed - now).elements())
    assert not new, ("figures with a unit and no result behind them: render them (scripts/figures.py), mark "
                     "them an estimate with the reasoning on the same line, or remove them:\n" + "\n".join(new))
    assert not gone, f"no longer in the documents: remove these lines from {UNBACKED.name}:\n" + "\n".join(gone)


# The only reasons a listed figure needs no result of its own (tests/data/unbacked_figures.txt's sections).
SECTIONS = ["# == targets, settings and plans (not measurements)",
            "# == facts of the data set or the machine (not measurements of the code)",
            "# == checked against a result or the notebooks' outputs by another test"]


def test_every_listed_figure_is_in_a_section_that_says_why_it_is_not_rendered():
    """No "not yet backed" section: a measured figure is rendered, not listed."""
    section = None
    for number, line in enumerate(UNBACKED.read_text().splitlines(), 1):
        if line.startswith("# =="):
            section = line.rstrip()
            assert section in SECTIONS, f"{UNBACKED.name}:{number}: unknown section {section!r}"
        elif line and not line.startswith("#"):
            assert section is not None, f"{UNBACKED.name}:{number}: a figure before any section"


def test_every_result_file_has_its_row_in_the_benchmarks_table():
    """benchmarks/README.md lists every result file with its command and last finding (figures.BENCHMARKS)."""
    files = {p.name for p in (REPO / "benchmarks" / "results").glob("*.json")} - {"latest.json"}
    listed = [source for source, _, _ in figures.BENCHMARKS]
    assert files <= set(listed) and len(listed) == len(set(listed)), sorted(files - set(listed))
    assert "<!-- fig:table.benchmarks -->" in (REPO / "benchmarks" / "README.md").read_text()


def test_the_unit_guard_sees_figures_and_skips_markers_code_and_estimates():
    text = ("A run takes 12 s and 0.5 GB, 64 CPU-s, 99.03%.\n"
            "It takes <!-- fig:time_to_99 -->8.7 s<!-- /fig -->, on `make lab`.\n"
            "About 30 min in class (an estimate: reading and exercises).\n"
            "```\nmake bench   # 10 min\n```\n")
    assert [fig for _, fig in _figures_in("README.md", text)] == ["12 s", "0.5 GB", "64 CPU-s", "99.03%"]


def test_the_cluster_config_derives_from_the_resource_table():
    """hub/z2jh/config.yaml's per-student guarantees and limits are the resource table's (the same sizing.json
    rendered into it) and cover the peaks measured in it, the heaviest lessons' too once measured."""
    import yaml

    su = yaml.safe_load((REPO / "hub" / "z2jh" / "config.yaml").read_text())["singleuser"]
    table = figures.value("table.resources")
    row = next(line for line in table.splitlines() if line.startswith("| what a hub gives each student"))
    gb = lambda v: float(str(v).removesuffix("G"))     # noqa: E731  ('0.75G' -> 0.75)
    assert (f"guarantee {gb(su['memory']['guarantee']):g} GB and {su['cpu']['guarantee']:g} CPU, "
            f"limit {gb(su['memory']['limit']):g} GB and {su['cpu']['limit']:g} CPU") in row
    results = REPO / "benchmarks" / "results"
    hub = json.loads((results / "classroom_hub.json").read_text())
    assert gb(su["memory"]["guarantee"]) * 1000 >= hub["student_cgroup_peak_mb"]["max"]
    assert su["cpu"]["guarantee"] >= hub["cpus"] / hub["students"]
    heavy = results / figures.HEAVY
    if heavy.exists():      # the heaviest lessons must fit under the limit
        assert gb(su["memory"]["limit"]) * 1000 >= json.loads(heavy.read_text())["student_cgroup_peak_mb"]["max"]
    else:
        assert figures.HEAVY_COMMAND in table


def test_make_bench_re_renders_the_docs_and_a_bad_lesson_is_one_line():
    bench = (REPO / "Makefile").read_text().split("\nbench:", 1)[1].split("\n\n", 1)[0]
    assert bench.strip().splitlines()[-1].strip() == "$(PY) scripts/figures.py --write"
    run = subprocess.run([sys.executable, str(REPO / "scripts" / "figures.py"), "--notebook", "9z"],
                         capture_output=True, text=True)
    assert run.returncode == 2 and run.stderr.strip().splitlines()[-1].startswith("figures.py: error: no lesson '9z'")
