"""The predict panel's "look inside" view: your 28x28 input, conv1's and conv2's feature maps, and
which conv2 maps add most to the winning score (:mod:`lenet_utils.predict.look_inside` computes them).

It is one HTML widget of small PNG tiles, filled only while the view is open, so the plain answer
never waits for it. Each layer's maps share one grey scale (black: 0, white: the layer's largest
activation), so a bright map is a strongly active one, not just a stretched faint one.
"""

from __future__ import annotations

import base64
import html

import anywidget
import ipywidgets as W
import numpy as np
import traitlets
from torch import nn

from ..predict.answer import Prediction
from ..predict.look_inside import LookInside, look_inside, stage_layers
from .predict_views import png_bytes

INPUT_SIDE = 112               # px: the 28x28 input, 4 screen pixels per pixel
CONV1_SIDE = 56                # px: each 14x14 conv1 map
CONV2_SIDE = 44                # px: each 5x5 conv2 map
TOP = 5                        # conv2 maps listed as the largest contributions
WHY = ("Each conv2 map's contribution is its activations times the score's gradient, summed: in LeNet-5 "
       "everything after conv2 is linear, so the 16 contributions plus a constant add up to the score.")
CLOSED = "<div class='lenet-inside' data-state='closed'></div>"


def _grey(a: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Floats -> uint8, ``lo`` black and ``hi`` white (a flat map is black)."""
    span = hi - lo if hi > lo else 1.0
    return (np.clip((a - lo) / span, 0.0, 1.0) * 255).round().astype(np.uint8)


def _img(a: np.ndarray, side: int, cls: str = "") -> str:
    data = base64.b64encode(png_bytes(a, side, pixelated=True)).decode("ascii")
    return f"<img class='lenet-inside-img {cls}' width='{side}' height='{side}' src='data:image/png;base64,{data}'>"


def _maps(maps: np.ndarray, side: int, notes: list[str] | None = None, marked: set[int] = frozenset()) -> str:
    """A grid of maps on one shared scale, each with its number (and a note under it)."""
    lo, hi = min(0.0, float(maps.min())), float(maps.max())
    tiles = []
    for i, m in enumerate(maps):
        note = f"<div class='lenet-inside-note'>{html.escape(notes[i])}</div>" if notes else ""
        mark = " lenet-inside-top" if i in marked else ""
        tiles.append(f"<div class='lenet-inside-tile{mark}' title='map {i}'>{_img(_grey(m, lo, hi), side)}"
                     f"<div class='lenet-inside-num'>{i}</div>{note}</div>")
    return f"<div class='lenet-inside-grid'>{''.join(tiles)}</div>"


def inside_html(inside: LookInside, names: tuple[str, str] = ("relu1", "relu2")) -> str:
    """The whole view as HTML: input, conv1 maps, conv2 maps with their contributions, the top ones."""
    top = inside.top(TOP)
    biggest = max(abs(c) for _, c in top) or 1.0
    rows = "".join(
        f"<div class='lenet-inside-row'><span class='lenet-inside-map'>map {i}</span>"
        f"<span class='lenet-inside-bar' style='width:{max(c, 0.0) / biggest * 120:.0f}px'></span>"
        f"<span class='lenet-inside-value'>{c:+.2f}</span></div>" for i, c in top)
    rest = float(inside.contributions.sum()) - sum(c for _, c in top)
    n1, n2 = len(inside.conv1), len(inside.conv2)
    after = [f"after pooling and {n}" if not n.startswith("pool") else "after pooling" for n in names]
    (h1, w1), (h2, w2) = inside.conv1.shape[1:], inside.conv2.shape[1:]
    x = inside.input
    return (
        f"<div class='lenet-inside' data-state='open' data-label='{inside.label}'>"
        f"<div class='lenet-inside-col'><div class='lenet-card-title'>Your input, 28x28</div>"
        f"{_img(_grey(x, float(x.min()), float(x.max())), INPUT_SIDE, 'lenet-frame')}</div>"
        f"<div class='lenet-inside-col lenet-inside-conv1'><div class='lenet-card-title'>conv1: {n1} maps, "
        f"{w1}x{h1}</div><div class='lenet-inside-sub'>{html.escape(after[0])}</div>"
        f"{_maps(inside.conv1, CONV1_SIDE)}</div>"
        f"<div class='lenet-inside-col lenet-inside-conv2'><div class='lenet-card-title'>conv2: {n2} maps, "
        f"{w2}x{h2}</div><div class='lenet-inside-sub'>{html.escape(after[1])}; under each, "
        f"what it adds to the score of {inside.label}</div>"
        f"{_maps(inside.conv2, CONV2_SIDE, [f'{c:+.1f}' for c in inside.contributions], {i for i, _ in top})}"
        f"</div>"
        f"<div class='lenet-inside-col lenet-inside-why'><div class='lenet-card-title'>Why {inside.label}: "
        f"the top {len(top)} maps</div>{rows}"
        f"<div class='lenet-inside-sum'>other maps {rest:+.2f}, constant {inside.constant:+.2f}: "
        f"score of {inside.label} = {inside.score:.2f}</div>"
        f"<div class='lenet-inside-sub'>{html.escape(WHY)}</div></div></div>")


# When the view opens, the page scrolls just enough to show it, but never so far that the answer card
# leaves the screen: on a laptop (1366x768) both fit; on a phone the answer stays and the maps begin
# under it. Browser-side only (a scroll is no state), in whatever box scrolls the page (JupyterLab's
# notebook, Solara's page or the window).
_REVEAL_JS = """
function scroller(e) {
  for (let p = e.parentElement; p; p = p.parentElement) {
    const y = getComputedStyle(p).overflowY;
    if ((y === "auto" || y === "scroll") && p.scrollHeight > p.clientHeight + 1) return p;
  }
  return document.scrollingElement || document.documentElement;
}
function reveal(el) {
  const panel = el.closest(".lenet-panel");
  const view = panel && panel.querySelector(".lenet-inside-box");
  if (!view || view.offsetHeight === 0) return;
  const keep = panel.querySelector(".lenet-card-answer") || view;
  const box = scroller(view);
  const page = box === document.scrollingElement || box === document.documentElement;
  const area = page ? { top: 0, bottom: window.innerHeight } : box.getBoundingClientRect();
  const top = Math.max(area.top, 0), bottom = Math.min(area.bottom, window.innerHeight);
  const v = view.getBoundingClientRect(), k = keep.getBoundingClientRect();
  const by = Math.min(v.bottom - bottom, k.top - top - 8);
  if (by > 1) box.scrollBy({ top: by, behavior: "smooth" });
}
function render({ model, el }) {
  const go = () => requestAnimationFrame(() => requestAnimationFrame(() => reveal(el)));
  model.on("change:opened", go);
  return () => model.off("change:opened", go);
}
export default { render };
"""


class _Reveal(anywidget.AnyWidget):
    """Invisible: scrolls the opened view into sight, the answer card kept on the screen."""

    _esm = _REVEAL_JS
    opened = traitlets.Int(0).tag(sync=True)          # +1 each time the view opens


class LookInsideView(W.VBox):
    """A toggle and the view under it. ``update(model, prediction)`` redraws only while it is open."""

    def __init__(self) -> None:
        self.toggle = W.ToggleButton(description="Look inside", icon="eye", value=False,
                                     tooltip="the network's feature maps for this digit",
                                     layout=W.Layout(width="auto"))
        self.toggle.add_class("lenet-inside-toggle")
        self.view = W.HTML(CLOSED)
        self.view.add_class("lenet-inside-widget")
        self.view.layout.display = "none"
        self.inside: LookInside | None = None          # the last one drawn, for tests and readers
        self._pending: tuple[nn.Module, Prediction | None] | None = None
        self._reveal = _Reveal()
        self._reveal.layout.display = "none"           # takes no room; its script still runs
        super().__init__([self.view, self._reveal])
        self.add_class("lenet-inside-box")
        self.toggle.observe(lambda change: self._opened(change["new"]), names="value")

    def update(self, model: nn.Module | None, pred: Prediction | None) -> None:
        """Show what ``model`` does with ``pred``'s input (nothing to show without an answer)."""
        self._pending = (model, pred)
        if not self.toggle.value:
            return                                     # closed: the answer does not wait for this
        if model is None or pred is None or not pred.ok or pred.image is None:
            self.inside = None
            self.view.value = ("<div class='lenet-inside' data-state='empty'><div class='lenet-inside-sub'>"
                               "Upload, pick or draw a digit to see inside the network.</div></div>")
            return
        try:
            self.inside = look_inside(model, pred.image, pred.label)
            names = stage_layers(model)
        except ValueError as err:          # a model not built like LeNet-5: it answers, but has no maps to show
            self.inside = None
            self.view.value = (f"<div class='lenet-inside' data-state='error'><div class='lenet-inside-sub'>"
                               f"Cannot look inside this model: {html.escape(str(err))}</div></div>")
            return
        self.view.value = inside_html(self.inside, names)

    def _opened(self, is_open: bool) -> None:
        self.view.layout.display = "flex" if is_open else "none"
        if is_open:
            self.update(*(self._pending or (None, None)))
            self._reveal.opened += 1
