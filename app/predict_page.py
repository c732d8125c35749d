"""The predict panel as a standalone web page (``make app``): upload or photograph a digit, try an
example, or draw one with a finger; see the answer, the ten probabilities, and share it.

Served by Solara: every visitor gets their own panel (their own widgets) inside ONE Python
process that loads torch and the model once; Voila would start a kernel per visitor (see
app/README.md for the measured difference). No code cells, no notebook.

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
