"""What the predict panel shows, made from a prediction: pictures as PNG, the answer and the bars as HTML.

Lesson: notebook 05's panel. Everything here is a plain function of its input (no widget state),
so the panel only decides *when* to show, and tests read the HTML directly. A number that is
not finite is never shown, and each stage's tile is closed when it is replaced.
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Mapping

import ipywidgets as W
import numpy as np
from PIL import Image

from ..images.preprocess import STAGES
from ..predict.answer import Prediction

VIEW_SIDE = 200                # px: your image and the drawing pad
STEP_SIDE = 96                 # px: each stage in "show the steps" (8 fit in a notebook's width)
NET_SIDE = 196                 # px: the network's 28x28 input, 7 screen pixels per pixel (crisp)
UNSURE = 0.6                   # below this confidence the panel says the network is unsure


def png_bytes(a: np.ndarray, side: int | None = None, *, pixelated: bool = False) -> bytes:
    """A uint8 image array as PNG, scaled so its longer side is ``side`` (nearest-neighbour when
    ``pixelated``, so each of the network's 28x28 pixels stays a visible square)."""
    img = Image.fromarray(np.ascontiguousarray(a))
    if side:
        h, w = a.shape[:2]
        s = side / max(h, w)
        size = (max(1, round(w * s)), max(1, round(h * s)))
        img = img.resize(size, Image.NEAREST if pixelated or s > 1 else Image.BOX)
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def blank_png(side: int = VIEW_SIDE) -> bytes:
    """An empty light-grey square: the place of a picture not shown yet."""
    return png_bytes(np.full((side, side), 245, np.uint8))


def bars_html(probabilities: list[float] | None) -> str:
    """The ten probabilities as a bar chart (HTML, no figure: it redraws instantly)."""
    probs = [p if isinstance(p, float) and math.isfinite(p) else 0.0 for p in (probabilities or [0.0] * 10)]
    top = int(np.argmax(probs)) if probabilities else -1   # a number that is not finite is never shown
    cols = []
    for digit, p in enumerate(probs):
        cls = "lenet-bar lenet-top" if digit == top else "lenet-bar"
        cols.append(f"<div class='lenet-bar-col' title='{digit}: {p:.2%}'>"
                    f"<div class='lenet-bar-value'>{_pct(p) if probabilities else ''}</div>"
                    f"<div class='{cls}' style='height:{max(p, 0.0) * 100:.1f}%'></div>"
                    f"<div class='lenet-bar-label'>{digit}</div></div>")
    return f"<div class='lenet-bars' data-top='{top}'>{''.join(cols)}</div>"


def _pct(p: float) -> str:
    return f"{p:.0%}" if p >= 0.01 else ("<1%" if p >= 0.001 else "")


def answer_html(pred: Prediction | None) -> str:
    """The big digit and its confidence; a grey dash when there is no answer, and a plain "this
    doesn't look like a digit" first, then the closest digit without a percentage, when the input
    is not one digit.
    ``data-state`` names which: empty, error, not-a-digit, unsure or sure."""
    if pred is None or pred.label is None or not math.isfinite(pred.confidence or 0.0):
        why = "no digit found" if pred is not None and "no digit found" in (pred.error or "") else \
            ("could not read the image" if pred is not None else "upload, pick or draw a digit")
        state = "empty" if pred is None else "error"
        return (f"<div class='lenet-answer' data-label='' data-state='{state}'><div class='lenet-digit lenet-none'>"
                f"&ndash;</div><div class='lenet-confidence'>{html.escape(why)}</div></div>")
    if pred.not_a_digit:   # no confident number here: the network's 99% for a smiley's closest digit misleads
        return (f"<div class='lenet-answer' data-label='{pred.label}' data-state='not-a-digit'>"
                "<div class='lenet-not-digit'>This doesn't look like a digit</div>"
                f"<div class='lenet-closest'>closest digit: <b>{pred.label}</b></div>"
                "<div class='lenet-closest-why'>The network has to pick one of ten digits, even for a "
                "smiley.</div></div>")
    unsure = ("<div class='lenet-unsure' title='The network is unsure: is it one clear digit, large and centred "
              "in the picture?'>Unsure: is it one clear, centred digit?</div>") if pred.confidence < UNSURE else ""
    return (f"<div class='lenet-answer' data-label='{pred.label}' data-state='{'unsure' if unsure else 'sure'}'>"
            f"<div class='lenet-digit'>{pred.label}</div>"
            f"<div class='lenet-confidence'>{pred.confidence:.1%} sure</div>{unsure}</div>")


def original_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of the picture as the person took it, read from the file's header alone and
    turned as its EXIF orientation says (the pipeline works on a smaller copy); None if unreadable."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            w, h = img.size
            turned = img.getexif().get(0x0112) in (5, 6, 7, 8)   # Orientation: a quarter turn
    except Exception:  # anything Pillow cannot open: the pipeline's own message says why
        return None
    return (h, w) if turned else (w, h)


def step_tiles(stages: Mapping[str, np.ndarray]) -> list[W.VBox]:
    """A tile per stage present in ``stages``, in pipeline order: the picture and its caption."""
    tiles = []
    for i, (key, caption) in enumerate(STAGES.items(), 1):
        if key not in stages:
            continue
        a = stages[key]
        small = max(a.shape[:2]) <= 64
        img = W.Image(value=png_bytes(a, STEP_SIDE, pixelated=small), format="png")
        img.add_class("lenet-frame")
        if small:
            img.add_class("lenet-pixelated")
        label = W.HTML(f"<div class='lenet-step-caption'><b>{i}. {html.escape(caption)}</b><br>"
                       f"{a.shape[1]}x{a.shape[0]}</div>")
        tile = W.VBox([img, label])
        tile.add_class("lenet-step")
        tiles.append(tile)
    return tiles


def row(*children: W.Widget) -> W.HBox:
    """Children side by side."""
    box = W.HBox(list(children))
    box.add_class("lenet-row")
    return box


def card(title: str, *children: W.Widget, note: W.Widget | None = None, kind: str = "") -> W.VBox:
    """A titled card: the title, the children, and an optional note under them. ``kind`` adds the
    class ``lenet-card-<kind>``, which gives the card its fixed size (predict_panel.css)."""
    box = W.VBox([W.HTML(f"<div class='lenet-card-title'>{html.escape(title)}</div>"), *children,
                  *([note] if note is not None else [])])
    box.add_class("lenet-card")
    if kind:
        box.add_class(f"lenet-card-{kind}")
    return box

