"""A drawing pad widget: draw a digit with the mouse; after each stroke the drawing arrives in
Python as PNG bytes (``DrawingPad.png``), ready for :func:`lenet_utils.predict.predict_image`.

Why a small anywidget rather than ipycanvas: anywidget is already a dependency and needs no
JupyterLab extension of its own; the ~100 lines of JavaScript (``drawing_pad.js``) are ours to
read and test. The whole stroke is drawn in the browser and only the finished drawing crosses to
the kernel, once per stroke, where ipycanvas sends every mouse event to Python and draws back
(sluggish on a busy kernel or a remote server). A PNG of white paper and dark ink is exactly
what a scanned digit looks like, so the pad needs no preprocessing path of its own.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import anywidget
import traitlets

_HERE = Path(__file__).parent

Stroke = Sequence[tuple[float, float]]  # points (x, y) in pad pixels, 0 at the top left


def render_strokes(strokes: Sequence[Stroke], size: int = 280, width: float = 20.0,
                   ink: int = 17, paper: int = 255) -> bytes:
    """Strokes -> the PNG the pad would send: ``size`` x ``size`` RGB, round pen of ``width`` px."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (size, size), (paper,) * 3)
    draw = ImageDraw.Draw(img)
    r = width / 2
    for stroke in strokes:
        points = [(float(x), float(y)) for x, y in stroke]
        if len(points) > 1:
            draw.line(points, fill=(ink,) * 3, width=round(width), joint="curve")
        for x, y in (points[0], points[-1]) if points else ():  # round caps
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(ink,) * 3)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


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
