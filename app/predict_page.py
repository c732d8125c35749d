"""The predict panel as a Solara page: what ``make app`` serves (app/README.md).

Every visitor gets their own panel (``page.build_panel``: their own widgets) inside ONE Python
process that loads torch and the model once, where Voila (``make app-voila``) starts a kernel per
visitor: 3.0 MB against 335 MB per extra visitor, measured with 10 (benchmarks/app_memory.py).
``solara run`` puts this file's folder first on ``sys.path``, so ``page`` is ``app/page.py``.

    python app/servers.py solara --host 127.0.0.1 --port 8765      # make app
"""

from __future__ import annotations

import solara
from page import build_panel


@solara.component
def Page():
    page = solara.use_memo(build_panel, dependencies=[])   # built once per visitor, kept across renders
    solara.Title("What digit is this? Ask LeNet-5")
    solara.display(page)
