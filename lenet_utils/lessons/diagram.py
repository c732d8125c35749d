"""LeNet-5 drawn as in LeCun's 1998 figure: a stack of feature maps per layer, then the Linear layers
as bars, input on the left, the ten scores on the right (notebook 02; the layer lab, notebook 06).

    from lenet_utils.lessons.diagram import architecture_diagram
    architecture_diagram()                       # the reference: shows itself in a notebook cell
    architecture_diagram(LeNetConfig(pool="max")).svg    # the SVG text, e.g. for an HTML widget

The columns come from :func:`architecture_blocks`, which reads the shapes and parameter counts
from :func:`~lenet_utils.summary.layer_summary` (a real forward pass), so the drawing cannot drift
from the network. :func:`layout` places rectangles, arrows and words once; they are written as SVG
(a millisecond: the layer lab redraws it on every change of a control) or drawn by matplotlib
(:func:`plot_architecture`, and the PNG a notebook keeps for where SVG is not trusted).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from html import escape

from matplotlib.axes import Axes
from torch import nn

from ..config import LeNetConfig
from ..summary import LayerSummary, layer_summary

# --- sizes in SVG pixels ------------------------------------------------------------------------
MAP_SIDE = 84        # the input image's square; every map is drawn in proportion to its side
MIN_SIDE = 10        # a 1x1 map still shows
SHEET_STEP = 4       # offset between stacked feature maps
MAX_SHEETS = 8       # more maps than this are drawn as 8 (the label gives the true number)
BAR_WIDTH = 14       # a vector (flatten, Linear) is a bar...
BAR_HEIGHT = 120     # ...this tall for the longest vector, shorter ones by the square root of their length
GAP = 60             # room for the arrow between two blocks and the operation written under it
CHAR = 7.0           # rough width of a character at FONT px, to leave room for labels
FONT = 12            # the smallest text: readable on a projector, so the picture is never scaled down
TOP = 46             # the diagram's title and each block's two labels sit above this line
HEIGHT = TOP + BAR_HEIGHT + 42  # and the parameter counts below the tallest block


@dataclass(frozen=True)
class Block:
    """One column of the picture: what a layer outputs, and the operation that made it."""

    name: str                      # the layer's name in the model: input, conv1, pool1, flatten, fc1, ...
    shape: tuple[int, ...]         # output shape for one image: (6, 28, 28) or (120,)
    params: int                    # learnable parameters of the layer (its activation has none)
    op: str                        # the operation on the arrow into it: "5x5 conv, pad same"

    @property
    def is_map(self) -> bool:
        return len(self.shape) == 3

    @property
    def shape_text(self) -> str:
        return "×".join(str(d) for d in self.shape)


def architecture_blocks(model_or_config: nn.Module | LeNetConfig | None = None,
                        summary: LayerSummary | None = None) -> list[Block]:
    """The columns of the picture, left to right. For the reference: input 1×28×28, conv1 6×28×28,
    pool1 6×14×14, conv2 16×10×10, pool2 16×5×5, flatten 400, fc1 120, fc2 84, fc3 10.

    Activations and dropout are no column of their own: an activation is written on the arrow
    into the layer it follows (``"2x2 avg, then relu"``), dropout on the arrow into the Linear it feeds.
    ``summary``: the network's :func:`~lenet_utils.summary.layer_summary`, when already at hand."""
    config = (model_or_config if isinstance(model_or_config, LeNetConfig)
              else getattr(model_or_config, "config", LeNetConfig()))
    blocks: list[Block] = []
    pending = ""                                   # a dropout, written on the next Linear's arrow
    for row in summary if summary is not None else layer_summary(model_or_config):
        name, shape = row.name, tuple(row.output_shape[1:])   # drop the "batch" dimension
        if name == "input":
            blocks.append(Block(name, shape, 0, ""))
        elif name.startswith("conv"):
            blocks.append(Block(name, shape, row.params, _conv_op(config, name[-1])))
        elif name.startswith("pool"):
            blocks.append(Block(name, shape, 0, f"2×2 {config.pool} pool"))
        elif name == "flatten":
            blocks.append(Block(name, shape, 0, "flatten"))
        elif name.startswith("bn"):             # BatchNorm: written on the arrow after its conv
            last = blocks[-1]
            blocks[-1] = Block(last.name, last.shape, last.params + row.params, f"{last.op}, batchnorm")
        elif name.startswith("drop"):
            pending = f"dropout {config.dropout:g}, "
        elif name.startswith("fc") and "_" not in name:
            blocks.append(Block(name, shape, row.params, pending + "full"))
            pending = ""
        else:                                      # an activation: relu1, tanh2, fc1_relu, ...
            last = blocks[-1]
            act = name.split("_")[-1].rstrip("0123456789")
            blocks[-1] = Block(last.name, last.shape, last.params, f"{last.op}, then {act}")
    return blocks


def _conv_op(config: LeNetConfig, stage: str) -> str:
    k, pad = getattr(config, f"conv{stage}_kernel"), getattr(config, f"conv{stage}_padding")
    return f"{k}×{k} conv" + ("" if pad in (0, "valid") else f", pad {pad}")


class ArchitectureDiagram:
    """A network's picture: ``.svg`` is the SVG text, ``.png()`` the same picture as PNG bytes.
    A notebook cell shows it as SVG, or as PNG where SVG is not trusted (a notebook opened unrun)."""

    def __init__(self, blocks: list[Block], title: str):
        self.blocks, self.title = blocks, title
        self.width, self.shapes = layout(blocks, title)
        self.svg = render_svg(self.width, self.shapes, title)

    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_png_(self) -> bytes:
        return self.png()

    def png(self, dpi: int = 144) -> bytes:
        """The picture drawn by matplotlib (:func:`plot_architecture`), as PNG bytes."""
        from matplotlib.figure import Figure  # no pyplot: nothing shown twice, safe off the main thread

        fig = Figure(figsize=(self.width / 72, HEIGHT / 72), dpi=dpi)   # 1 point per SVG pixel
        draw_shapes(self.width, self.shapes, fig.add_axes((0, 0, 1, 1)))
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()

    def __repr__(self) -> str:                    # what a notebook shows where no picture is rendered
        return self.title + ": " + " -> ".join(f"{b.name} {b.shape_text}" for b in self.blocks)


def architecture_diagram(model_or_config: nn.Module | LeNetConfig | None = None, title: str | None = None,
                         summary: LayerSummary | None = None) -> ArchitectureDiagram:
    """The picture of a LeNet-5: a model (``LeNet5``, ``LabNet``), a :class:`LeNetConfig`, or the
    reference when given nothing. The default title names the changes from the reference and the
    parameter count, e.g. ``"LeNet-5, pool=max: 61,706 parameters"``. ``summary``: as in
    :func:`architecture_blocks`."""
    blocks = architecture_blocks(model_or_config, summary)
    if title is None:
        config = (model_or_config if isinstance(model_or_config, LeNetConfig)
                  else getattr(model_or_config, "config", LeNetConfig()))
        changes = config.describe_changes()
        name = "LeNet-5" + ("" if changes == "reference" else f", {changes}")
        title = f"{name}: {sum(b.params for b in blocks):,} parameters"
    return ArchitectureDiagram(blocks, title)


def plot_architecture(model_or_config: nn.Module | LeNetConfig | None = None, ax: Axes | None = None) -> Axes:
    """The same picture on matplotlib axes (a new figure when ``ax`` is None); returns the axes."""
    diagram = architecture_diagram(model_or_config)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(diagram.width / 72, HEIGHT / 72))
    return draw_shapes(diagram.width, diagram.shapes, ax)


# --- layout: where everything goes, in SVG pixels (y down) ----------------------------------------
@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str


@dataclass(frozen=True)
class Arrow:
    x0: float
    x1: float
    y: float


@dataclass(frozen=True)
class Text:
    x: float
    y: float                                       # the baseline
    text: str
    size: int = FONT
    bold: bool = False
    fill: str = "#222"
    anchor: str = "middle"                         # or "start": left-aligned


def layout(blocks: list[Block], title: str) -> tuple[float, list[Rect | Arrow | Text]]:
    """The blocks side by side, an arrow between each two with its operation written under it;
    each block's name and shape above it, its parameter count below. Returns the width and the shapes."""
    longest = max((b.shape[0] for b in blocks if not b.is_map), default=1)
    input_side = blocks[0].shape[-1]
    middle = TOP + (HEIGHT - TOP - 14) / 2             # every block is centred on this line
    shapes: list[Rect | Arrow | Text] = [Text(12, 16, title, FONT + 2, bold=True, anchor="start")]
    x = 12.0
    for i, block in enumerate(blocks):
        if block.is_map:
            side = max(MIN_SIDE, MAP_SIDE * block.shape[-1] / input_side)
            sheets = min(block.shape[0], MAX_SHEETS)
            width = height = side + (sheets - 1) * SHEET_STEP
        else:
            side, sheets = 0.0, 1
            width, height = BAR_WIDTH, max(8.0, BAR_HEIGHT * math.sqrt(block.shape[0] / longest))
        labels = [block.name, block.shape_text, f"{block.params:,} params" if block.params else ""]
        column = max(width, *(len(t) * CHAR for t in labels))
        if i > 0:                                  # the arrow into this block, its operation below it
            shapes.append(Arrow(x + 6, x + GAP - 8, middle))
            for line, text in enumerate(_wrap(block.op, GAP)):
                shapes.append(Text(x + GAP / 2, middle + 16 + 13 * line, text, FONT, fill="#555"))
            x += GAP
        left, top = x + (column - width) / 2, middle - height / 2
        if block.is_map:                           # back sheets first, each one step down and right
            for s in range(sheets):
                shade = "#dfe9f5" if s < sheets - 1 else ("#f2f2f2" if block.name == "input" else "#b9d0ea")
                shapes.append(Rect(left + s * SHEET_STEP, top + s * SHEET_STEP, side, side, shade))
        else:
            shapes.append(Rect(left, top, width, height, "#f6d7a7" if i < len(blocks) - 1 else "#c7e3b4"))
        centre = x + column / 2
        shapes += [Text(centre, top - 21, block.name, bold=True), Text(centre, top - 7, block.shape_text)]
        if block.params:
            shapes.append(Text(centre, top + height + 15, labels[2], FONT, fill="#555"))
        x += column
    return x + 12, shapes


def _wrap(text: str, width: float) -> list[str]:
    """The operation's words on lines that fit under an arrow ``width`` pixels long."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and len(lines[-1] + " " + word) * (CHAR - 0.6) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


# --- two renderers of the same shapes -------------------------------------------------------------
def render_svg(width: float, shapes: list[Rect | Arrow | Text], title: str) -> str:
    """The shapes as an SVG document, drawn at its own size: never scaled down (a narrower space
    scrolls it sideways), so its smallest labels stay FONT px, readable on a projector."""
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' class='lenet-diagram' width='{width:.0f}' "
             f"height='{HEIGHT}' viewBox='0 0 {width:.0f} {HEIGHT}' font-family='sans-serif' "
             f"style='max-width:none;flex:none'><title>{escape(title)}</title>"
             "<defs><marker id='lenet-arrow' viewBox='0 0 8 8' refX='7' refY='4' markerWidth='7' "
             "markerHeight='7' orient='auto'><path d='M0,0 L8,4 L0,8 z' fill='#777'/></marker></defs>"]
    for s in shapes:
        if isinstance(s, Rect):
            parts.append(f"<rect x='{s.x:.1f}' y='{s.y:.1f}' width='{s.w:.1f}' height='{s.h:.1f}' "
                         f"fill='{s.fill}' stroke='#335' stroke-width='0.8'/>")
        elif isinstance(s, Arrow):
            parts.append(f"<line x1='{s.x0:.1f}' y1='{s.y:.1f}' x2='{s.x1:.1f}' y2='{s.y:.1f}' stroke='#777' "
                         "stroke-width='1.2' marker-end='url(#lenet-arrow)'/>")
        else:
            parts.append(f"<text x='{s.x:.1f}' y='{s.y:.1f}' font-size='{s.size}' "
                         f"font-weight='{'bold' if s.bold else 'normal'}' fill='{s.fill}' "
                         f"text-anchor='{s.anchor}'>{escape(s.text)}</text>")
    return "".join(parts) + "</svg>"


def draw_shapes(width: float, shapes: list[Rect | Arrow | Text], ax: Axes) -> Axes:
    """The shapes on matplotlib axes, one axis unit per SVG pixel (y pointing down, as in SVG)."""
    from matplotlib.patches import Rectangle

    ax.set_xlim(0, width)
    ax.set_ylim(HEIGHT, 0)
    ax.set_axis_off()
    for s in shapes:
        if isinstance(s, Rect):
            ax.add_patch(Rectangle((s.x, s.y), s.w, s.h, facecolor=s.fill, edgecolor="#335", lw=0.8))
        elif isinstance(s, Arrow):
            ax.annotate("", xy=(s.x1, s.y), xytext=(s.x0, s.y),
                        arrowprops={"arrowstyle": "-|>", "color": "#777", "lw": 1.2, "shrinkA": 0, "shrinkB": 0})
        else:
            ax.text(s.x, s.y, s.text, fontsize=s.size, fontweight="bold" if s.bold else "normal", color=s.fill,
                    ha="center" if s.anchor == "middle" else "left", va="baseline")
    return ax
