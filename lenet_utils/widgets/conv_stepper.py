"""A convolution, one position at a time (notebook 02): a 5×5 kernel of the trained conv1 slides over
a real digit; each step shows the patch under it, the 25 products, their sum plus the bias, and the
output map filling in.

    from lenet_utils.widgets.conv_stepper import conv_stepper
    conv_stepper()            # the first test digit and the shipped model's conv1: press play

The arithmetic is :func:`conv_step`, a plain function a test compares with ``F.conv2d``; the widget
only draws what it returns.
"""

from __future__ import annotations

import html
import io
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np
import torch
import torch.nn.functional as F

SCALE = 7          # screen pixels per image pixel: the padded 32x32 digit is 224 px wide
MAP_SCALE = 8      # the 28x28 output map is 224 px wide as well
NOT_YET = (235, 235, 235)   # output positions the kernel has not reached yet
WINDOW = (220, 30, 30)      # the kernel's outline on the digit, and the current output pixel


@dataclass(frozen=True)
class ConvStep:
    """One output number of a convolution, worked out: ``output = sum(patch * kernel) + bias``."""

    row: int
    col: int
    patch: torch.Tensor      # (k, k): the (padded) image under the kernel
    products: torch.Tensor   # (k, k): patch * kernel, element by element
    total: float             # the sum of the k*k products
    bias: float
    output: float            # total + bias: output[row, col]


def conv_step(image: torch.Tensor, kernel: torch.Tensor, row: int, col: int, bias: float = 0.0,
              padding: int = 0) -> ConvStep:
    """Output ``[row, col]`` of a stride-1 convolution of a one-channel ``image`` (H, W) with a
    ``kernel`` (k, k), after ``padding`` zeros on every side, worked out by hand. Equals
    ``F.conv2d(image[None, None], kernel[None, None], bias, padding=padding)[0, 0, row, col]``
    (exactly on whole numbers; to float rounding otherwise: the sum's order differs)."""
    k = kernel.shape[-1]
    padded = F.pad(image, (padding,) * 4)                                  # (H + 2p, W + 2p)
    if not (0 <= row <= padded.shape[0] - k and 0 <= col <= padded.shape[1] - k):
        raise IndexError(f"position ({row}, {col}) is outside the "
                         f"{padded.shape[0] - k + 1}x{padded.shape[1] - k + 1} output")
    patch = padded[row:row + k, col:col + k]                               # (k, k)
    products = patch * kernel                                              # (k, k)
    total = products.sum().item()
    bias = float(bias)
    return ConvStep(row, col, patch, products, total, bias, total + bias)


class ConvStepper(widgets.VBox):
    """The widget: a slider (and a play button linked to it) picks the position; ``channel`` picks
    which of ``weight``'s kernels ``(C, 1, k, k)`` slides over ``image`` ``(28, 28)``. The slider's
    value counts positions row by row: ``row * side + col``."""

    def __init__(self, image: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                 padding: int | None = None, channel: int = 0, label: str = "the digit"):
        self.image = image.detach().reshape(image.shape[-2:]).float().cpu()           # (28, 28)
        self.weight = weight.detach().float().cpu().reshape(-1, *weight.shape[-2:])   # (C, k, k)
        self.bias = (bias.detach().float().cpu() if bias is not None
                     else torch.zeros(len(self.weight)))                              # (C,)
        k = self.weight.shape[-1]
        self.padding = k // 2 if padding is None else padding                          # "same" for odd k
        self.side = self.image.shape[-1] + 2 * self.padding - k + 1                    # output side
        self.label = label
        self.channel = widgets.ToggleButtons(options=list(range(len(self.weight))), value=channel,
                                             description="kernel", style={"button_width": "36px"})
        count = self.side * self.side
        self.play = widgets.Play(value=0, min=0, max=count - 1, step=1, interval=120, description="play")
        self.slider = widgets.IntSlider(0, min=0, max=count - 1, description="position",
                                        layout=widgets.Layout(width="420px"))
        widgets.jslink((self.play, "value"), (self.slider, "value"))  # the browser moves the slider
        self.where = widgets.HTML()
        self.input_view = widgets.Image(format="png", layout=widgets.Layout(width="224px"))
        self.sums = widgets.HTML()
        self.output_view = widgets.Image(format="png", layout=widgets.Layout(width="224px"))
        self.total = widgets.HTML()
        self.slider.observe(lambda _: self.render(), names="value")
        self.channel.observe(lambda _: self._new_kernel(), names="value")
        super().__init__([
            widgets.HBox([self.play, self.slider, self.where]), self.channel,
            widgets.HBox([_captioned(self.input_view, f"{label}, {self.padding} zero pixels of padding"),
                          _captioned(self.output_view, "the output map, filling in")]),
            self.sums, self.total,
        ])
        self.add_class("lenet-conv-stepper")
        self._new_kernel()

    # --- state ------------------------------------------------------------------------------------
    @property
    def position(self) -> tuple[int, int]:
        """The kernel's (row, col): its top-left corner on the padded image, and the output pixel it makes."""
        return divmod(int(self.slider.value), self.side)

    def step(self) -> ConvStep:
        """The current position worked out by :func:`conv_step`."""
        c = int(self.channel.value)
        return conv_step(self.image, self.weight[c], *self.position, bias=self.bias[c].item(), padding=self.padding)

    def filled(self) -> np.ndarray:
        """``(side, side)`` booleans: the output pixels computed so far (row by row, up to the current one)."""
        return (np.arange(self.side * self.side) <= self.slider.value).reshape(self.side, self.side)

    def _new_kernel(self) -> None:
        c = int(self.channel.value)
        with torch.no_grad():                          # the whole map, to fill in position by position
            self.output_map = F.conv2d(self.image[None, None], self.weight[c][None, None], self.bias[c:c + 1],
                                       padding=self.padding)[0, 0].numpy()                  # (side, side)
        self.render()

    # --- drawing ----------------------------------------------------------------------------------
    def render(self) -> None:
        s = self.step()
        k = self.weight.shape[-1]
        self.where.value = f"row {s.row}, column {s.col} of {self.side}×{self.side}"
        padded = F.pad(self.image, (self.padding,) * 4).numpy()
        self._input_rgb = _outline(_grey(padded), s.row, s.col, k, SCALE)               # (224, 224, 3)
        self.input_view.value = _png(self._input_rgb)
        rgb = _diverging(self.output_map)
        rgb[~self.filled()] = NOT_YET
        self._output_rgb = _outline(rgb, s.row, s.col, 1, MAP_SCALE)                     # (224, 224, 3)
        self.output_view.value = _png(self._output_rgb)
        kernel = self.weight[int(self.channel.value)]
        self.sums.value = ("<div style='display:flex;gap:8px;align-items:center;font-size:11px'>"
                           + _grid(s.patch, "patch under the kernel") + "<b>×</b>"
                           + _grid(kernel, "kernel weights") + "<b>=</b>"
                           + _grid(s.products, "products") + "</div>")
        self.total.value = (f"<div class='lenet-conv-sum' style='font-size:14px'>sum of the {k * k} products "
                            f"<b>{s.total:+.3f}</b> + bias <b>{s.bias:+.3f}</b> = <b>{s.output:+.3f}</b> "
                            f"= output[{s.row}, {s.col}]</div>")

    def snapshot(self) -> bytes:
        """A still picture as PNG: the digit with the window, and the output map so far, side by side."""
        gap = np.full((self._input_rgb.shape[0], 24, 3), 255, dtype=np.uint8)
        return _png(np.concatenate([self._input_rgb, gap, self._output_rgb], axis=1))

    def _repr_mimebundle_(self, **kwargs):
        """The live widget, and the still picture for where it cannot be drawn: a notebook opened
        without running it is not trusted, and JupyterLab draws no widget there, but a PNG."""
        data = super()._repr_mimebundle_(**kwargs)
        data["image/png"] = self.snapshot()
        return data

    def __repr__(self) -> str:  # what a notebook shows where the widget is not rendered
        k = self.weight.shape[-1]
        return f"ConvStepper({self.label}: a {k}x{k} kernel, {self.side}x{self.side} positions; run the cell to step)"


def conv_stepper(image: torch.Tensor | None = None, model: torch.nn.Module | None = None,
                 channel: int = 0) -> ConvStepper:
    """The stepper over ``image`` (default: the first MNIST test digit, normalised as the network
    sees it) with ``model.conv1`` (default: the shipped, trained model)."""
    label = "your image"
    if image is None:
        from ..data import load_mnist

        test = load_mnist("test")
        image, label = test.images[0], f"test digit 0 (a {int(test.labels[0])})"
    if model is None:
        from ..checkpoints import load_pretrained

        model = load_pretrained()
    conv = model.conv1
    return ConvStepper(image, conv.weight, conv.bias, padding=conv.padding[0] if isinstance(conv.padding, tuple)
                       else None, channel=channel, label=label)


# --- pictures -------------------------------------------------------------------------------------
def _grey(values: np.ndarray) -> np.ndarray:
    """(H, W) numbers -> (H, W, 3) uint8, ink dark on white paper (the course's digit colours)."""
    low, high = float(values.min()), float(values.max())
    scaled = (values - low) / (high - low or 1.0)
    return np.repeat((255 * (1 - scaled)).astype(np.uint8)[..., None], 3, axis=2)


def _diverging(values: np.ndarray) -> np.ndarray:
    """(H, W) numbers -> (H, W, 3) uint8: red positive, blue negative, white 0 (as plots.plot_filters)."""
    from matplotlib import colormaps

    limit = float(np.abs(values).max()) or 1.0
    return (255 * colormaps["RdBu_r"]((values / limit + 1) / 2)[..., :3]).astype(np.uint8)


def _outline(rgb: np.ndarray, row: int, col: int, size: int, scale: int) -> np.ndarray:
    """``rgb`` blown up ``scale`` times, with a 2-pixel frame around the ``size`` x ``size`` window at (row, col)."""
    big = np.kron(rgb, np.ones((scale, scale, 1), dtype=np.uint8))
    top, left, bottom, right = row * scale, col * scale, (row + size) * scale - 1, (col + size) * scale - 1
    for r0, r1, c0, c1 in [(top, top + 2, left, right + 1), (bottom - 1, bottom + 1, left, right + 1),
                           (top, bottom + 1, left, left + 2), (top, bottom + 1, right - 1, right + 1)]:
        big[r0:r1, c0:c1] = WINDOW
    return big


def _png(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def _grid(values: torch.Tensor, caption: str) -> str:
    """A small table of numbers, two decimals, red positive and blue negative."""
    rows = "".join("<tr>" + "".join(
        f"<td style='padding:0 2px;text-align:right;color:{'#b2182b' if v > 0 else '#2166ac' if v < 0 else '#999'}'>"
        f"{v:.2f}</td>" for v in row.tolist()) + "</tr>" for row in values)
    return (f"<div><table style='border-collapse:collapse;font-family:monospace'>{rows}</table>"
            f"<div style='text-align:center;color:#555'>{html.escape(caption)}</div></div>")


def _captioned(view: widgets.Widget, caption: str) -> widgets.VBox:
    return widgets.VBox([view, widgets.HTML(f"<div style='font-size:11px;color:#555;width:224px'>"
                                            f"{html.escape(caption)}</div>")],
                        layout=widgets.Layout(margin="0 24px 4px 0"))
