"""The recorded layout of the predict panel (``benchmarks/results/panel_layout.json``, written by
``benchmarks/panel_layout.py``) says what issues 14 and 27 asked for, and the figures quoted from it
are there: steady cards in JupyterLab; on ``make app``'s page, the answer card on a 375x812 screen
after every action, the pad one size through its strokes, nothing sliding sideways at 1366 px, and
the baseline (the page before issue 27) measured in the same run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "panel_layout.json"
ACTIONS = ("example", "upload", "draw", "inside")


@pytest.fixture(scope="module")
def results() -> dict:
    return json.loads(RESULTS.read_text())


def test_the_run_is_dated_and_traceable(results):
    assert results["date"].startswith("20") and results["commit"]
    assert len(results["machine"]["load_average"]) == 3


def test_jupyterlab_cards_are_steady(results):
    assert all(results["steady_per_width"].values()) and not results["clipped_anywhere"]


@pytest.mark.parametrize("screen", ["375x812", "1366x768"])
def test_make_app_keeps_the_answer_on_screen_and_the_pad_one_size(results, screen):
    app = results["app"]["this"][screen]
    for action in ACTIONS:
        assert app["answer_card"][action]["on_screen"], (screen, action, app["answer_card"][action])
    pads = app["pad"]
    assert len({tuple(p["pad"]) for p in pads.values()}) == 1 and all(p["clear_button_whole"] for p in pads.values())
    assert len(set(app["panel_x"].values())) == 1, app["panel_x"]        # nothing moves sideways


def test_the_baseline_shows_what_issue_27_saw(results):
    base = results["app"]["baseline"]
    phone, laptop = base["375x812"], base["1366x768"]
    assert not any(phone["answer_card"][a]["on_screen"] for a in ACTIONS)         # the answer below the fold
    assert phone["pad"]["clear"]["pad"][0] > phone["pad"]["1 stroke"]["pad"][0]     # the pad shrank
    assert laptop["panel_x"]["inside"] != laptop["panel_x"]["draw"]                 # and slid sideways
