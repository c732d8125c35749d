"""Pen strokes drawn as the PNG a drawing pad sends: dark round-capped ink on white paper.

The drawing pad (:mod:`lenet_utils.widgets.drawing_pad`) and the simulated class
(:mod:`lenet_utils.synthetic.simulated_class`) both turn strokes into pictures here, so a simulated
drawing reaches :func:`~lenet_utils.predict.answer.predict_image` exactly as a drawn one does.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

__all__ = ["Stroke", "render_strokes"]

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
