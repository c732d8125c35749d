"""The committed notebooks, opened in JupyterLab WITHOUT running them (as a newcomer who just
cloned the course): each panel's place shows its title and how to bring it to life, never the
raw repr text ipywidgets falls back to (``PredictPanel(children=(HTML(value="<style>...``)."""

from __future__ import annotations

import re

import pytest
from lab import open_notebook
from playwright.sync_api import expect

from lenet_utils.widgets.saved_view import HOW, PANELS

TITLES = {"05_predict_panel.ipynb": PANELS[("lenet_utils.widgets.predict_panel", "PredictPanel")],
          "06_layer_lab.ipynb": PANELS[("lenet_utils.widgets.layer_lab", "LayerLab")],
          "07_class_gallery.ipynb": PANELS[("lenet_utils.widgets.class_dashboard", "ClassDashboard")]}


@pytest.mark.parametrize("name", sorted(TITLES))
def test_an_unexecuted_notebook_shows_the_panel_not_its_repr(jupyterlab, browser_page, name):
    page = browser_page
    open_notebook(page, jupyterlab, name)                  # opened, kernel idle, no cell run
    outputs = page.locator(".jp-Notebook .jp-OutputArea-output")
    expect(outputs.first).to_be_attached()
    text = " ".join(outputs.all_inner_texts())
    raw = re.findall(r"\b\w+\(children=", text)
    assert not raw, f"{name} shows raw widget reprs: {raw[:3]}"
    saved = page.locator(".lenet-saved-panel")
    expect(saved).to_have_count(1)
    saved.scroll_into_view_if_needed()
    expect(saved).to_be_visible()
    expect(saved).to_contain_text(TITLES[name])
    expect(saved).to_contain_text(HOW)
