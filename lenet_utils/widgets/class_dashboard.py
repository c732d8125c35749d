"""The lecturer's dashboard: the class's digits as they arrive, refreshed while students share.

    from lenet_utils.widgets.class_dashboard import class_dashboard
    class_dashboard()             # filter by digit and right/wrong; accuracy next to MNIST's

A background thread asks the store every ``every`` seconds whether anything changed (one cheap
``count(*)``) and redraws only then. ``dashboard.stop()`` ends it (closing the widget does too).
"""

from __future__ import annotations

import html
import io
import threading

import ipywidgets as W

from ..classroom.gallery import Gallery, confusion, load_gallery, per_nickname, plot_accuracy, plot_gallery
from ..classroom.service import GalleryService, class_store
from ..classroom.store import ClassDB
from .saved_view import register_once


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


class ClassDashboard(W.VBox):
    """Grid, filters, accuracy, confusion matrix, per-nickname counts. ``refresh()`` redraws now."""

    def __init__(self, db: ClassDB | GalleryService | None = None, *, mnist_accuracy: float | None = None,
                 every: float = 3.0):
        self.db = db if db is not None else class_store()   # the hub's gallery service, else the file
        self.mnist_accuracy = mnist_accuracy
        self.gallery: Gallery | None = None
        self._stamp = None
        self._stop = threading.Event()
        self.label_filter = W.Dropdown(options=[("every digit", None)] + [(str(d), d) for d in range(10)],
                                       description="Digit", layout=W.Layout(width="170px"))
        self.right_filter = W.ToggleButtons(options=[("all", None), ("read right", True), ("read wrong", False)],
                                            value=None, style={"button_width": "90px"})
        self.summary = W.HTML()
        self.summary.add_class("lenet-dash-summary")
        self.grid = W.Image(format="png")
        self.charts = W.Image(format="png")
        self.names = W.HTML()
        super().__init__([W.HBox([self.label_filter, self.right_filter]), self.summary, self.grid,
                          self.charts, self.names])
        self.add_class("lenet-dashboard")
        self.label_filter.observe(lambda _: self.redraw(), names="value")
        self.right_filter.observe(lambda _: self.redraw(), names="value")
        self.refresh()
        if every:
            threading.Thread(target=self._watch, args=(every,), daemon=True).start()

    def refresh(self) -> bool:
        """Read the store again if it changed; True when it did."""
        stamp = self.db.stamp()
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        self.gallery = load_gallery(self.db)
        self.redraw()
        return True

    def redraw(self) -> None:
        import matplotlib.pyplot as plt

        from ..lessons.plots import plot_confusion_matrix

        g = self.gallery
        shown = g.only(self.label_filter.value, self.right_filter.value)
        acc = g.accuracy()
        self.summary.value = (f"<div data-count='{len(g)}'><b>{len(g)}</b> digits shared; the shipped model reads "
                              f"<b>{'n/a' if len(g) == 0 else f'{acc:.1%}'}</b> of them right"
                              + (f" (MNIST test: {self.mnist_accuracy:.1%})" if self.mnist_accuracy else "")
                              + f". Showing {len(shown)}.</div>")
        self.grid.value = _png(plot_gallery(shown, max_digits=320).figure)
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.4), gridspec_kw={"width_ratios": [1, 2]})
        plot_accuracy(acc, self.mnist_accuracy or float("nan"), ax=a1)
        plot_confusion_matrix(confusion(g), ax=a2)
        self.charts.value = _png(fig)
        rows = "".join(f"<tr><td>{html.escape(n)}</td><td>{c}</td><td>{r}</td></tr>" for n, c, r in per_nickname(g))
        self.names.value = f"<table><tr><th>nickname</th><th>shared</th><th>read right</th></tr>{rows}</table>"

    def _watch(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                self.refresh()
            except Exception:  # a busy or vanished file: try again next time
                pass

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.stop()
        super().close()


def class_dashboard(db: ClassDB | GalleryService | None = None, **kwargs) -> ClassDashboard:
    register_once()          # a saved, unexecuted notebook shows the dashboard's title, not its repr
    return ClassDashboard(db, **kwargs)
