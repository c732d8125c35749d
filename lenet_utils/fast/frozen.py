"""The frozen network: a model folded once, for answers rather than training; and the one cache of them.

:class:`Frozen` copies a model's weights, folds them (``folding.py``) and runs inference from the
copy: a batch through the folded PyTorch operations (``evaluate``, ``predict_logits``), one image on
the CPU through numpy (the predict panel, the app and the CLI, notebook 05). :func:`freeze` keeps
one per model, the package's only cache of a model prepared for inference: it builds the copy
again when the model's weights change, and for a model :func:`seal` ed for answers (the shipped
model, a checkpoint the panel loaded) it never compares them: the fold-once path. What else is
worked out once per copy (the not-a-digit detector's verdict on the model) lives on the copy,
:meth:`Frozen.derived`, and goes with it.
"""

from __future__ import annotations

import copy
import threading
import weakref
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view
from torch import nn

from ..model import conv_stages, layers_in_order
from .folding import ConvPool, Folded, LinearChain, box_blur_kernel, collapse_linears, fold, strided_conv

Op = Callable[[torch.Tensor], torch.Tensor]


class Frozen:
    """``model``'s function for inference, folded once from a copy of its weights.

    Call it on a batch ``(B, C, H, W)`` or one image ``(C, H, W)``: raw scores ``(B, classes)`` on
    the model's device, the same as ``model.eval()(x)`` to about 1e-6. A snapshot: later changes to
    the model do not reach it (:meth:`is_snapshot_of` tells). Dropout is off and nothing records
    gradients; the model itself, and its train/eval mode, are left alone."""

    @torch.no_grad()
    def __init__(self, model: nn.Module):
        own = copy.deepcopy(model).eval().requires_grad_(False)
        self.weights = list(own.parameters())                 # what the model held when frozen
        self.device = self.weights[0].device if self.weights else torch.device("cpu")
        net = fold(own)
        self.folded = isinstance(net, Folded)                 # False: run as it is (nothing folds)
        self.ops: list[Op] = [_fixed(op) for op in net.ops] if self.folded else [own]
        self.one_image = _numpy_forward(self.ops) if self.device.type == "cpu" else None
        self._own = own
        self._conv_ops = net.conv_ops if self.folded else None     # ops[:_conv_ops]: the conv part
        self._derived: dict[str, object] = {}
        self._derived_lock = threading.Lock()

    @torch.no_grad()
    def features(self, x: torch.Tensor) -> np.ndarray:
        """The conv part's output for inputs ``(N, C, H, W)`` or one ``(C, H, W)``: ``(N, 400)`` float32
        for LeNet-5, what ``fc1`` reads (the layers of :func:`~lenet_utils.model.conv_stages` and
        ``flatten``). One image on the CPU goes through numpy, the folded convolutions (~0.05 ms)."""
        if x.dim() == 3:
            x = x.unsqueeze(0)
        if self._conv_ops is None:                            # nothing folded: the copy's own layers
            layers = dict(layers_in_order(self._own))
            first, second = conv_stages(self._own)
            h = x.to(self.device)
            for name in [*first, *second, "flatten"]:
                h = layers[name](h)
            return h.numpy(force=True)
        if self.one_image is not None and x.shape[0] == 1 and x.dtype == torch.float32 and x.device.type == "cpu":
            conv = self.derived("numpy conv part", lambda: _numpy_forward(self.ops[:self._conv_ops]))
            if conv is not None:
                return conv(x.detach().numpy()[0])
        h = x.to(self.device)
        for op in self.ops[:self._conv_ops]:
            h = op(h)
        return h.numpy(force=True)

    def derived(self, key: str, make: Callable[[], object]) -> object:
        """``make()``, computed once for this copy and kept with it (e.g. whether the not-a-digit
        detector was fitted for these weights): what is known about the weights dies with the copy."""
        with self._derived_lock:
            if key not in self._derived:
                self._derived[key] = make()
            return self._derived[key]

    def is_snapshot_of(self, model: nn.Module) -> bool:
        """Whether ``model``'s weights are still the ones frozen here (compared value by value)."""
        params = list(model.parameters())
        return len(params) == len(self.weights) and all(
            p.shape == w.shape and p.dtype == w.dtype and p.device == w.device and torch.equal(p, w)
            for p, w in zip(params, self.weights))

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3:
            x = x.unsqueeze(0)                                # (C, H, W) -> (1, C, H, W)
        if self.one_image is not None and x.shape[0] == 1 and x.dtype == torch.float32 and x.device.type == "cpu":
            return torch.from_numpy(self.one_image(x.detach().numpy()[0]))
        x = x.to(self.device)
        for op in self.ops:
            x = op(x)
        return x


# The one cache: model -> (its frozen copy, sealed). Weak keys: a model nobody holds takes its copy along.
_SNAPSHOTS: weakref.WeakKeyDictionary[nn.Module, tuple[Frozen, bool]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def freeze(model: nn.Module) -> Frozen:
    """``model``'s :class:`Frozen` for answering one image at a time (the predict panel, the app, the CLI).

    Built on first use and kept. For a model :func:`seal` ed for answers it is used as it is (the
    fold-once path). For any other model it is kept while the model's weights equal the snapshot's;
    an optimizer step, ``load_state_dict`` or any edit (``.data`` writes too) makes the next call
    build it again. Checking compares the weights value by value: tens of microseconds for LeNet-5."""
    with _LOCK:
        snapshot, sealed = _SNAPSHOTS.get(model, (None, False))
    if snapshot is not None and (sealed or snapshot.is_snapshot_of(model)):
        return snapshot
    snapshot = Frozen(model)
    with _LOCK:
        _SNAPSHOTS[model] = (snapshot, sealed)
    return snapshot


def seal(model: nn.Module) -> nn.Module:
    """Mark ``model`` as answering only, never changing again, and fold it now: from here on
    :func:`freeze` returns the same copy without comparing weights. Its parameters stop recording
    gradients (``requires_grad`` off); to train or edit it, load your own copy of the checkpoint.
    Returns ``model``. For the shipped model and the checkpoints the predict panel loads."""
    model.requires_grad_(False)
    frozen = Frozen(model)
    with _LOCK:
        _SNAPSHOTS[model] = (frozen, True)
    return model


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


def _fixed(op: nn.Module) -> Op:
    """One operation of a :class:`~.folding.Folded` network with its folded weights computed now."""
    if isinstance(op, ConvPool):
        return FrozenConv(box_blur_kernel(op.conv.weight).contiguous(), op.conv.bias, op.padding)
    if isinstance(op, LinearChain):
        return FrozenLinear(*collapse_linears(list(op.layers)))
    return op


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


def _numpy_forward(ops: list[Op]) -> Callable[[np.ndarray], np.ndarray] | None:
    """``ops`` for one image in numpy: ``(C, H, W)`` float32 -> ``(1, classes)`` logits, the same
    as running them on ``x[None]``; None when an op has no numpy form here (max pooling, sigmoid,
    GELU, a network that did not fold, ...), and PyTorch runs instead."""
    steps: list[NumpyOp] = []
    for op in ops:
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
