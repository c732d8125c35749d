"""A drawing pad widget: draw a digit with the mouse; after each stroke the drawing arrives in
Python as PNG bytes (``DrawingPad.png``), ready for :func:`lenet_utils.predict.answer.predict_image`.

Why a small anywidget rather than ipycanvas: anywidget is already a dependency and needs no
JupyterLab extension of its own; the ~100 lines of JavaScript (``drawing_pad.js``) are ours to
read and test. The whole stroke is drawn in the browser and only the finished drawing crosses to
the kernel, once per stroke, where ipycanvas sends every mouse event to Python and draws back
(sluggish on a busy kernel or a remote server). A PNG of white paper and dark ink is exactly
what a scanned digit looks like, so the pad needs no preprocessing path of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import anywidget
import traitlets

from ..images.strokes import Stroke, render_strokes

_HERE = Path(__file__).parent


class DrawingPad(anywidget.AnyWidget):
    """A square canvas with a Clear button. Observe ``png`` to react to each finished stroke."""

    _esm = _HERE / "drawing_pad.js"
    _css = _HERE / "drawing_pad.css"

    # PNG after the last stroke; b"" when clear. Jupyter hands binary buffers over as memoryviews and
    # Solara as bytes; ipywidgets' own decoder takes only memoryviews, bytes() takes both.
    png = traitlets.Bytes(b"").tag(sync=True, from_json=lambda js, widget: None if js is None else bytes(js))
    strokes = traitlets.Int(0).tag(sync=True)              # strokes drawn since the last clear
    size = traitlets.Int(280).tag(sync=True)               # canvas side, CSS pixels
    stroke_width = traitlets.Float(20.0).tag(sync=True)    # pen width, pixels: ~MNIST's stroke-to-size ratio

    def clear(self) -> None:
        """Wipe the pad (in every view of it) and forget the drawing."""
        self.strokes = 0
        self.png = b""

    def draw(self, strokes: Sequence[Stroke]) -> None:
        """Replace the drawing with ``strokes``, as if drawn by hand (the views show it)."""
        self.strokes = len(strokes)
        self.png = render_strokes(strokes, self.size, self.stroke_width)
