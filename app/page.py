"""One visitor's predict panel for the standalone page: ``make app``'s Solara page
(``predict_page.py``) and ``make app-voila``'s notebook (``voila_page.ipynb``) both show it."""

from __future__ import annotations

import uuid
from pathlib import Path

import ipywidgets as W

from lenet_utils.widgets.predict_panel import PredictPanel

_CSS = (Path(__file__).parent / "page.css").read_text()


def build_panel() -> W.Widget:
    """The panel with the shipped model only, and shares owned by this visit (a student can
    delete what they shared from this page, but nobody else's)."""
    panel = PredictPanel()
    panel.model_choice.layout.display = "none"     # one model on the page: the shipped one
    panel.refresh_button.layout.display = "none"
    panel.share.owner = f"visit-{uuid.uuid4().hex}"
    page = W.VBox([W.HTML(f"<style>{_CSS}</style>"), panel])
    page.add_class("lenet-app")
    return page
