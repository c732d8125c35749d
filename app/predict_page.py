"""The predict panel as a Solara page: the alternative to ``make app``'s Voila page.

Every visitor gets their own panel (their own widgets) inside ONE Python process that loads torch
and the model once, where Voila starts a kernel per visitor (about 1.5 MB against 325 MB per
visitor, app/README.md). But Solara's page loads its JavaScript from a CDN, so it needs internet;
``make app`` serves ``voila_page.ipynb`` instead.

    solara run app/predict_page.py --host 127.0.0.1 --port 8765 --production
"""

from __future__ import annotations

import sys
from pathlib import Path

import solara

sys.path.insert(0, str(Path(__file__).parent))
from page import build_panel  # noqa: E402 - app/page.py, next to this file

@solara.component
def Page():
    page = solara.use_memo(build_panel, dependencies=[])   # built once per visitor, kept across renders
    solara.Title("What digit is this? Ask LeNet-5")
    solara.display(page)
