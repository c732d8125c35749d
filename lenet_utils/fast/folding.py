"""Folding: the same LeNet-5 computed with fewer, larger operations. Exact, and only for speed.

Two facts about linear maps make the reference network cheaper to run than its layer list says:

* **A 2x2 average after a convolution is part of the convolution.** Averaging four neighbouring
  outputs of a k x k kernel is one (k+1) x (k+1) kernel applied with stride 2: the k x k kernel
  blurred by the 2x2 box of quarters,

      K'[s, t] = (K[s, t] + K[s-1, t] + K[s, t-1] + K[s-1, t-1]) / 4      (K is 0 outside its k x k)

  and the bias passes through (the average of four equal biases). It computes the pooled 14x14
  map directly, 36 multiply-adds per output instead of four outputs of 25 and the averaging:
  conv1 + pool1 take 42,336 multiply-adds per image instead of 117,600 and a pass over 28x28x6.
* **Linear layers with nothing between them are one layer**: ``W = W3 W2 W1`` and
  ``b = W3 (W2 b1 + b2) + b3`` (notebook 02 shows it).

:func:`fold` returns a module computing the same function from the *same* parameter tensors. It
recomputes the folded kernels from the model's own weights on every call, so gradients flow back
to them: training through it (``fit`` does, ``TrainConfig.fold``) updates ``conv1.weight`` exactly
as the layer-by-layer forward would, up to float rounding (about 1e-7 of each value), and
``model(x)`` stays the plain layer-by-layer network. :func:`frozen` does the folding once, for
inference. Only avg pooling folds (max is not linear), and only a chain of ``Linear`` layers with
nothing between them collapses; anything else runs as it is.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view
from torch import nn

Op = Callable[[torch.Tensor], torch.Tensor]


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
    pair = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v, v)  # noqa: E731
    return (pair(layer.kernel_size) == (2, 2) and pair(layer.stride or layer.kernel_size) == (2, 2)
            and pair(layer.padding) == (0, 0) and not layer.ceil_mode and layer.divisor_override is None)


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

    def __init__(self, model: nn.Module, ops: list[nn.Module]):
        super().__init__()
        self.model = model
        self.ops = nn.ModuleList(ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for op in self.ops:
            x = op(x)
        return x


def _layers(model: nn.Module) -> list[nn.Module] | None:
    steps = getattr(model, "steps", None)
    return [layer for _, layer in steps()] if callable(steps) else None


def fold(model: nn.Module) -> nn.Module:
    """The folded form of a :class:`~lenet_utils.LeNet5` (any config); ``model`` itself when nothing
    folds or ``model`` is not built from a layer list (``steps()``)."""
    layers = _layers(model)
    if layers is None:
        return model
    ops: list[nn.Module] = []
    folded = False
    i = 0
    while i < len(layers):
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
    return Folded(model, ops) if folded else model


class FrozenConv:
    """A folded conv + 2x2 average with its weights computed once: one stride-2 convolution."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, padding: tuple[int, int, int, int]):
        self.weight, self.bias, self.padding = weight, bias, padding   # (O, I, k+1, k+1), (O,), (l, r, t, b)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return strided_conv(x, self.weight, self.bias, self.padding)


class FrozenLinear:
    """A collapsed Linear chain with its one matrix computed once."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None):
        self.weight, self.bias = weight, bias                          # (out, in), (out,)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight, self.bias)


class Frozen(nn.Module):
    """:func:`fold` with the folded weights computed once: for inference, no gradients. A snapshot:
    it does not follow later changes to the model's weights (build a new one)."""

    def __init__(self, ops: list[Op]):
        super().__init__()
        self._ops = ops

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for op in self._ops:
            x = op(x)
        return x


@torch.no_grad()
def frozen(model: nn.Module) -> nn.Module:
    """The folded model as fixed tensors: the fastest way to run a trained LeNet-5 forward."""
    net = fold(model)
    if not isinstance(net, Folded):
        return model
    ops: list[Op] = []
    for op in net.ops:
        if isinstance(op, ConvPool):
            bias = None if op.conv.bias is None else op.conv.bias.clone()
            ops.append(FrozenConv(box_blur_kernel(op.conv.weight).contiguous(), bias, op.padding))
        elif isinstance(op, LinearChain):
            weight, bias = (t.clone() if t is not None else None for t in collapse_linears(list(op.layers)))
            ops.append(FrozenLinear(weight, bias))
        else:
            ops.append(op)
    return Frozen(ops)


# --- one image in numpy -----------------------------------------------------------------------
# For a single 28x28 image the arithmetic is tiny (0.46 MFLOP folded) and PyTorch's per-operation
# costs are most of the time, more so when the call comes between other work (an upload's
# decoding and preprocessing leave the dispatcher's code and data out of the caches). The same
# frozen weights in numpy take 0.1-0.2 ms less per prediction; the results agree to about 1e-6.
NumpyOp = Callable[[np.ndarray], np.ndarray]


def _as_numpy(t: torch.Tensor | None) -> np.ndarray | None:
    """A float32 numpy copy of ``t`` (a snapshot: later edits to the tensor do not reach it)."""
    return None if t is None else t.detach().cpu().float().numpy().copy()


def _conv_np(weight: torch.Tensor, bias: torch.Tensor | None, padding: tuple[int, int, int, int]) -> NumpyOp:
    out_ch, _, kh, kw = weight.shape
    w, b = _as_numpy(weight.reshape(out_ch, -1).T), _as_numpy(bias)              # (I*kh*kw, O), (O,)
    left, right, top, bottom = padding

    def conv(x: np.ndarray) -> np.ndarray:                                       # (I, H, W) -> (O, H', W')
        c, h, wd = x.shape
        if left or right or top or bottom:
            padded = np.zeros((c, h + top + bottom, wd + left + right), np.float32)
            padded[:, top:top + h, left:left + wd] = x
            x = padded
        cols = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::2, ::2]     # (I, H', W', kh, kw), a view
        _, ho, wo = cols.shape[:3]
        y = cols.transpose(1, 2, 0, 3, 4).reshape(ho * wo, c * kh * kw) @ w  # (H'W', O): im2col, one matmul
        if b is not None:
            y += b
        return np.ascontiguousarray(y.T).reshape(out_ch, ho, wo)
    return conv


def _linear_np(weight: torch.Tensor, bias: torch.Tensor | None) -> NumpyOp:
    w, b = _as_numpy(weight.T), _as_numpy(bias)                                  # (in, out), (out,)
    return (lambda x: x @ w) if b is None else (lambda x: x @ w + b)


def numpy_forward(net: nn.Module) -> Callable[[np.ndarray], np.ndarray] | None:
    """``net`` (from :func:`frozen`) for one image in numpy: ``(C, H, W)`` float32 -> ``(1, classes)``
    logits, the same as ``net(x[None])``; None when ``net`` has a layer numpy is not given here
    (max pooling, sigmoid, GELU, ...), and the caller runs PyTorch instead."""
    if not isinstance(net, Frozen):
        return None
    steps: list[NumpyOp] = []
    for op in net._ops:
        if isinstance(op, FrozenConv):
            steps.append(_conv_np(op.weight, op.bias, op.padding))
        elif isinstance(op, (FrozenLinear, nn.Linear)):       # a collapsed chain, or one Linear kept as is
            steps.append(_linear_np(op.weight, op.bias))
        elif isinstance(op, nn.ReLU):
            steps.append(lambda x: np.maximum(x, 0.0, dtype=np.float32))
        elif isinstance(op, nn.Tanh):
            steps.append(np.tanh)
        elif isinstance(op, nn.Flatten) and op.start_dim == 1 and op.end_dim == -1:
            steps.append(lambda x: x.reshape(1, -1))                   # (C, H, W) in PyTorch's order
        elif isinstance(op, nn.Dropout):
            continue                                                   # inference: the identity
        else:
            return None

    def forward(x: np.ndarray) -> np.ndarray:
        for step in steps:
            x = step(x)
        return x
    return forward
