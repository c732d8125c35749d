"""What the layer lab shows besides its controls (notebook 06): the network's picture, the runs'
loss curves as a PNG, and its messages, a failed run among them, as HTML; and closing it all."""

from __future__ import annotations

import html
import io
import types
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from ..config import LeNetConfig
from ..curves import plot_runs
from ..data import MNISTUnavailable
from ..diagram import architecture_diagram
from ..experiments import VariantResult


class DiagramView(widgets.HTML):
    """The network the controls describe, drawn as in LeCun's figure (:mod:`lenet_utils.diagram`)
    and redrawn by :meth:`show` on every change. While the controls describe no network, the last
    one that could be built stays, faded, so the lab's layout does not jump."""

    def __init__(self, config: LeNetConfig | None = None):
        super().__init__(layout=widgets.Layout(width="100%", min_height="200px"))
        self.drawn: LeNetConfig = config or LeNetConfig()
        self.show(self.drawn)

    def show(self, config: LeNetConfig | None) -> None:
        faded = config is None
        self.drawn = config or self.drawn
        note = "This network cannot be built; the picture is the last one that could." if faded else ""
        self.value = (f"<div class='lenet-lab-diagram{' lenet-lab-diagram-faded' if faded else ''}' "
                      f"style='opacity:{0.35 if faded else 1}'>{architecture_diagram(self.drawn).svg}</div>"
                      f"<div class='lenet-lab-diagram-note' style='color:#c62828;min-height:1.3em'>{note}</div>")


def curves_png(runs: Sequence[Any], reference: VariantResult | None = None, live: Any = None) -> bytes:
    """The runs' training losses overlaid, the table's reference curve first when given, the run
    still training (``live``, anything with ``.losses`` and ``.label``) drawn bold."""
    from matplotlib.figure import Figure  # no pyplot: safe off the main thread, never shown twice

    fig = Figure(figsize=(6, 3.4), dpi=80)
    ax = fig.add_subplot()
    curves: list[Any] = []
    if reference is not None:
        curves.append(types.SimpleNamespace(losses=reference.losses,
                                            label=f"table: reference ({len(reference.accs)} seeds)"))
    curves += [*runs, *([live] if live is not None else [])]
    plot_runs(curves, ax=ax, highlight=live.label if live is not None else None)
    if not runs and live is None:
        ax.set_title("your runs' curves appear here", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def message(text: str, kind: str = "info") -> str:
    """``text`` (HTML) coloured by ``kind``: ok, warn, error or info."""
    color = {"ok": "#2e7d32", "warn": "#ef6c00", "error": "#c62828"}.get(kind, "inherit")
    return f"<div class='lenet-lab-{kind}' style='color:{color}'>{text}</div>"


def explain(err: Exception) -> str:
    """A failed run in a sentence, with what to try: never a traceback in the lab."""
    if isinstance(err, MNISTUnavailable):
        return f"MNIST is not available: {html.escape(str(err))}"
    return (f"Training failed: {html.escape(type(err).__name__)}: {html.escape(str(err))}. "
            "Try a smaller network or budget; if it persists, run <code>python -m lenet_utils doctor</code>.")


def close_tree(widget: widgets.Widget) -> None:
    """Close ``widget`` and every widget inside it (their comms too), children first."""
    for child in getattr(widget, "children", ()):
        close_tree(child)
    widgets.Widget.close(widget)
