"""Folding: the same LeNet-5 computed with fewer, larger operations. Exact, and only for speed.

Two facts about linear maps make the reference network cheaper to run than its layer list says
(notebook 02 shows both):

* **A 2x2 average after a convolution is part of the convolution.** Averaging four neighbouring
  outputs of a k x k kernel is one (k+1) x (k+1) kernel applied with stride 2: the k x k kernel
  blurred by the 2x2 box of quarters,

      K'[s, t] = (K[s, t] + K[s-1, t] + K[s, t-1] + K[s-1, t-1]) / 4      (K is 0 outside its k x k)

  and the bias passes through (the average of four equal biases). It computes the pooled 14x14
  map directly, 36 multiply-adds per output instead of four outputs of 25 and the averaging:
  conv1 + pool1 take 42,336 multiply-adds per image instead of 117,600 and a pass over 28x28x6.
* **Linear layers with nothing between them are one layer**: ``W = W3 W2 W1`` and
  ``b = W3 (W2 b1 + b2) + b3``.

:func:`fold` returns a module computing the same function from the *same* parameter tensors. It
recomputes the folded kernels from the model's own weights on every call, so gradients flow back
to them: training through it (``fit(..., fast=True)``) updates ``conv1.weight`` exactly as the
layer-by-layer forward would, up to float rounding (about 1e-7 of each value), and ``model(x)``
stays the plain layer-by-layer network. ``frozen.Frozen`` does the folding once, for inference.
Only avg pooling folds (max is not linear), and only a chain of ``Linear`` layers with nothing
between them collapses; anything else runs as it is.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..model import conv_stages, layers_in_order


def box_blur_kernel(weight: torch.Tensor) -> torch.Tensor:
    """``(O, I, k, k)`` kernel -> ``(O, I, k+1, k+1)``: the kernel followed by a 2x2 average."""
    w = F.pad(weight, (1, 1, 1, 1))                               # (O, I, k+2, k+2), zeros around
    return (w[..., 1:, 1:] + w[..., :-1, 1:] + w[..., 1:, :-1] + w[..., :-1, :-1]) * 0.25


def collapse_linears(layers: list[nn.Linear]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(W, b)`` of the one linear map a chain of Linear layers computes, first layer first."""
    weight, bias = layers[0].weight, layers[0].bias
    for layer in layers[1:]:
        carried = None if bias is None else layer.weight @ bias   # the earlier biases, mapped forward
        bias = carried if layer.bias is None else layer.bias if carried is None else carried + layer.bias
        weight = layer.weight @ weight                            # (out, previous out) @ (previous out, in)
    return weight, bias


def _same_padding(conv: nn.Conv2d) -> tuple[int, int, int, int] | None:
    """``(left, right, top, bottom)`` zero padding of ``conv`` (PyTorch's "same" puts the odd pixel
    of an even kernel on the far side); None when the convolution is not one :func:`fold` handles."""
    if conv.stride != (1, 1) or conv.dilation != (1, 1) or conv.groups != 1 or conv.padding_mode != "zeros":
        return None
    kh, kw = conv.kernel_size
    if conv.padding == "same":
        return ((kw - 1) // 2, kw - 1 - (kw - 1) // 2, (kh - 1) // 2, kh - 1 - (kh - 1) // 2)
    if conv.padding == "valid":
        return (0, 0, 0, 0)
    ph, pw = conv.padding
    return (pw, pw, ph, ph)


def _is_2x2_average(layer: nn.Module) -> bool:
    if not isinstance(layer, nn.AvgPool2d):
        return False
    return (_pair(layer.kernel_size) == (2, 2) and _pair(layer.stride or layer.kernel_size) == (2, 2)
            and _pair(layer.padding) == (0, 0) and not layer.ceil_mode and layer.divisor_override is None)


def _pair(value: int | tuple[int, ...]) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


class ConvPool(nn.Module):
    """``conv`` then a 2x2 average, run as one stride-2 convolution computed from ``conv``'s weights."""

    def __init__(self, conv: nn.Conv2d, padding: tuple[int, int, int, int]):
        super().__init__()
        self.conv = conv
        self.padding = padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return strided_conv(x, box_blur_kernel(self.conv.weight), self.conv.bias, self.padding)


def strided_conv(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                 padding: tuple[int, int, int, int]) -> torch.Tensor:
    left, right, top, bottom = padding
    if left == right and top == bottom:
        return F.conv2d(x, weight, bias, stride=2, padding=(top, left))
    return F.conv2d(F.pad(x, padding), weight, bias, stride=2)


class LinearChain(nn.Module):
    """Consecutive Linear layers, run as the one matrix they multiply to."""

    def __init__(self, layers: list[nn.Linear]):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, *collapse_linears(list(self.layers)))


class Folded(nn.Module):
    """``model``'s function with conv + avg-pool pairs and Linear chains folded; shares its parameters.

    ``folded.parameters()`` are ``model``'s own tensors and ``folded.train()`` / ``.eval()`` switch
    ``model`` too, so an optimizer built on either trains both."""

    def __init__(self, model: nn.Module, ops: list[nn.Module], conv_ops: int | None = None):
        super().__init__()
        self.model = model
        self.ops = nn.ModuleList(ops)
        self.conv_ops = conv_ops          # ops[:conv_ops] are the conv part, through flatten (None: no flatten)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for op in self.ops:
            x = op(x)
        return x


def fold(model: nn.Module) -> nn.Module:
    """The folded form of a :class:`~lenet_utils.LeNet5` or ``LabNet`` (any config); ``model``
    itself when nothing folds or its forward is not known to run its layers in order."""
    try:
        named = layers_in_order(model)
    except ValueError:                                     # its forward may run its layers in any order
        return model
    layers = [layer for _, layer in named]
    try:
        first, second = conv_stages(model)
        flatten: int | None = len(first) + len(second)    # the conv part ends with flatten, at this index
    except ValueError:                                     # not named like LeNet-5: it folds all the same
        flatten = None
    ops: list[nn.Module] = []
    conv_ops: int | None = None                            # how many ops make the conv part (up to flatten)
    folded = False
    i = 0
    while i < len(layers):
        if flatten is not None and conv_ops is None and i > flatten:
            conv_ops = len(ops)
        layer = layers[i]
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if isinstance(layer, nn.Conv2d) and nxt is not None and _is_2x2_average(nxt):
            padding = _same_padding(layer)
            if padding is not None:
                ops.append(ConvPool(layer, padding))
                folded, i = True, i + 2
                continue
        if isinstance(layer, nn.Linear):
            j = i
            while j < len(layers) and isinstance(layers[j], nn.Linear):
                j += 1
            if j - i > 1:
                ops.append(LinearChain(layers[i:j]))
                folded, i = True, j
                continue
        ops.append(layer)
        i += 1
    if flatten is not None and conv_ops is None:
        conv_ops = len(ops)
    return Folded(model, ops, conv_ops) if folded else model
