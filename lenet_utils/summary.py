"""``layer_summary``: the shape, parameters and multiply-accumulates after every layer (notebook 02;
the layer lab's table in notebook 06).

The table is data (``rows``), and renders as text (``print``) and HTML (a notebook cell) through
:mod:`.tables`.
Shapes come from a real forward pass of one dummy image, so the table cannot drift from the model.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn

from .config import LeNetConfig
from .lab_net import LabNet
from .model import layers_in_order
from .tables import html_table, text_table


@dataclass(frozen=True)
class LayerRow:
    step: int                 # 1 is the input, then one step per layer
    name: str                 # attribute name in the model: conv1, pool1, relu1, ..., fc3
    layer: str                # what it is: Conv2d(1, 6, 5, padding="same")
    output_shape: tuple       # ("batch", 6, 28, 28)
    params: int               # learnable parameters in this layer
    macs: int                 # multiply-accumulates per image

    @property
    def shape_text(self) -> str:
        return "(" + ", ".join(str(d) for d in self.output_shape) + ")"


class LayerSummary:
    """Per-layer table of a LeNet-5: iterate it for :class:`LayerRow` s, ``print`` it, or show it."""

    columns = ("step", "name", "layer", "output shape", "params", "MACs")

    def __init__(self, rows: list[LayerRow]):
        self.rows = rows

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[LayerRow]:
        return iter(self.rows)

    def __getitem__(self, i: int) -> LayerRow:
        return self.rows[i]

    def _cells(self) -> list[tuple[str, ...]]:
        return [(str(r.step), r.name, r.layer, r.shape_text, f"{r.params:,}", f"{r.macs:,}") for r in self.rows]

    def _total(self) -> tuple[str, ...]:
        return ("", "total", "", "", f"{self.total_params:,}", f"{self.total_macs:,}")

    _right = {0, 4, 5}  # numbers line up on the right

    def __str__(self) -> str:
        return text_table(self.columns, self._cells(), right=self._right, footer=[self._total()])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        return html_table(self.columns, self._cells(), right=self._right, footer=[self._total()], css="lenet-summary")


def layer_summary(model_or_config: nn.Module | LeNetConfig | None = None) -> LayerSummary:
    """The table for a model or a config (the reference network when given nothing)."""
    if model_or_config is None or isinstance(model_or_config, LeNetConfig):
        model = LabNet(model_or_config)
    elif isinstance(model_or_config, nn.Module):
        model = model_or_config
    else:
        raise TypeError(f"layer_summary takes a LeNet5 model or a LeNetConfig, not {type(model_or_config).__name__}")

    config = getattr(model, "config", LeNetConfig())
    param = next(model.parameters(), None)
    x = torch.zeros(1, config.in_channels, config.image_size, config.image_size,
                    device=param.device if param is not None else "cpu")
    rows = [LayerRow(1, "input", "Input", ("batch", *x.shape[1:]), 0, 0)]
    was_training = model.training
    model.eval()  # dropout off; shapes do not depend on it
    try:
        for step, (name, layer, y) in enumerate(layer_outputs(model, x), start=2):
            rows.append(LayerRow(step, name, describe_layer(layer), ("batch", *y.shape[1:]),
                                 sum(p.numel() for p in layer.parameters()), _macs(layer, x, y)))
            x = y
    finally:
        model.train(was_training)
    return LayerSummary(rows)


@torch.no_grad()
def layer_outputs(model: nn.Module, x: torch.Tensor) -> list[tuple[str, nn.Module, torch.Tensor]]:
    """Run ``x`` through ``model``'s layers one at a time and keep each output: ``[(name, layer,
    output), ...]``, in :func:`~lenet_utils.model.layers_in_order` (``LeNet5``, ``LabNet``): the
    shape table here, the feature maps in notebook 04."""
    outputs = []
    for name, layer in layers_in_order(model):
        x = layer(x)
        outputs.append((name, layer, x))
    return outputs


def describe_layer(layer: nn.Module) -> str:
    """Short constructor-like text: ``Conv2d(1, 6, 5, padding="same")``, ``AvgPool2d(2, 2)``."""
    if isinstance(layer, nn.Conv2d):
        k = layer.kernel_size[0] if layer.kernel_size[0] == layer.kernel_size[1] else layer.kernel_size
        pad = layer.padding
        pad_text = "" if pad in (0, (0, 0), "valid") else (
            f', padding="{pad}"' if isinstance(pad, str) else f", padding={pad[0] if pad[0] == pad[1] else pad}")
        return f"Conv2d({layer.in_channels}, {layer.out_channels}, {k}{pad_text})"
    if isinstance(layer, (nn.AvgPool2d, nn.MaxPool2d)):
        return f"{type(layer).__name__}({layer.kernel_size}, {layer.stride})"
    if isinstance(layer, nn.Linear):
        return f"Linear({layer.in_features}, {layer.out_features})"
    if isinstance(layer, nn.Dropout):
        return f"Dropout({layer.p:g})"
    if isinstance(layer, nn.BatchNorm2d):
        return f"BatchNorm2d({layer.num_features})"
    return type(layer).__name__


def _macs(layer: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """Multiply-accumulates per image: each output of a conv sums in_ch/groups x k x k products,
    each output of a Linear sums in_features products. Pooling and activations do none."""
    if isinstance(layer, nn.Conv2d):
        kh, kw = layer.kernel_size
        return y[0].numel() * (layer.in_channels // layer.groups) * kh * kw
    if isinstance(layer, nn.Linear):
        return layer.in_features * layer.out_features
    return 0
