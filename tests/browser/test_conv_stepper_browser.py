"""Notebook 02's stepping convolution and picture of LeNet-5 in a real JupyterLab: opened unrun (as
a newcomer who just cloned the course) they show still pictures, never a widget's repr; run, the
play button moves the kernel and the kernel answers with new pictures."""

from __future__ import annotations

import re

from lab import open_notebook, run_notebook
from playwright.sync_api import expect

NOTEBOOK = "02_architecture.ipynb"


def cell_with(page, source_part: str):
    """The notebook cell whose code contains ``source_part``."""
    return page.locator(".jp-CodeCell").filter(has=page.locator(".jp-Editor", has_text=source_part)).first


def test_unrun_the_stepper_and_the_diagram_show_still_pictures(jupyterlab, browser_page):
    page = browser_page
    open_notebook(page, jupyterlab, NOTEBOOK)              # opened, kernel idle, no cell run
    for source in ("stepper = conv_stepper()", "architecture_diagram(LeNet5())"):
        output = cell_with(page, source).locator(".jp-OutputArea-output")
        output.scroll_into_view_if_needed()
        expect(output.locator("img")).to_have_count(1)     # the saved PNG: JupyterLab trusts no SVG or widget here
        assert output.locator("img").bounding_box()["width"] > 300
    text = " ".join(page.locator(".jp-Notebook .jp-OutputArea-output").all_inner_texts())
    assert not re.findall(r"\b\w+\(children=", text)


def test_run_the_play_button_moves_the_kernel_over_the_digit(jupyterlab, browser_page, tmp_path):
    page = browser_page
    run_notebook(page, jupyterlab, NOTEBOOK)
    stepper = page.locator(".lenet-conv-stepper").first
    stepper.scroll_into_view_if_needed()
    where = stepper.locator(".widget-html-content").first
    expect(where).to_have_text("row 9, column 12 of 28×28")
    picture = stepper.locator("img").first
    before = picture.get_attribute("src")
    stepper.screenshot(path=str(tmp_path / "conv_stepper.png"))
    stepper.locator(".widget-play button").first.click()      # play: the browser moves the slider, the kernel redraws
    expect(where).not_to_have_text("row 9, column 12 of 28×28", timeout=60_000)
    stepper.locator(".widget-play button").nth(1).click()     # the next visible button stops it
    page.wait_for_function("([img, old]) => img.getAttribute('src') !== old",
                           arg=[picture.element_handle(), before], timeout=60_000)
    assert re.fullmatch(r"row \d+, column \d+ of 28×28", where.inner_text())
    assert "= output[" in stepper.locator(".lenet-conv-sum").inner_text()
    assert not [e for e in page.console_errors if "widget" in e.lower()], page.console_errors
