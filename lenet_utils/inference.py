"""Running a trained model over many images: logits and probabilities in batches."""

from __future__ import annotations

import weakref
from contextlib import contextmanager
from typing import Callable, Iterator

import torch
from torch import nn

from .data import NormalizedImages
from .folding import frozen, numpy_forward
from .threads import use_threads

EVAL_BATCH_SIZE = 256  # fastest measured on 2 CPU cores (64: 0.87x, 1,024: 0.97x, one batch of 10,000: 0.6x)


def channels_last(x: torch.Tensor) -> torch.Tensor:
    """A CPU batch ``(B, C, H, W)`` stored pixel by pixel, the C values of a pixel side by side (NHWC).

    Same shape, same values; only the order in memory changes. The CPU convolutions (oneDNN) and
    pooling run faster on it: 1.2-1.4x per training step and 1.3x evaluation on two cores
    (``benchmarks/``). Anything else (another device, not a batch of images) is returned as is."""
    if x.device.type != "cpu" or x.dim() != 4:
        return x
    return x.to(memory_format=torch.channels_last)


@torch.no_grad()
def predict_logits(model: nn.Module, images: torch.Tensor | NormalizedImages, batch_size: int = EVAL_BATCH_SIZE,
                   *, threads: int | None = None) -> torch.Tensor:
    """Raw scores ``(N, 10)`` for ``images`` ``(N, 1, 28, 28)`` (a tensor, or ``split.images``, which
    is normalised a batch at a time), on the CPU, in eval mode. ``threads``: as in ``fit``.

    Runs the model folded (``folding.frozen``: conv + avg-pool as one strided convolution, the
    Linear chain as one matrix): the same logits to about 1e-6, 5-7x faster on a CPU."""
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        net = frozen(model)
        layout = (lambda x: x) if net is not model else channels_last  # folded: NCHW measured faster
        with use_threads(threads):
            chunks = [net(layout(images[i:i + batch_size].to(device))).float().cpu()
                      for i in range(0, len(images), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(chunks) if chunks else torch.empty(0, 10)


def predict_proba(model: nn.Module, images: torch.Tensor | NormalizedImages, batch_size: int = EVAL_BATCH_SIZE,
                  *, threads: int | None = None) -> torch.Tensor:
    """Class probabilities ``(N, 10)``: softmax over the logits, each row sums to 1."""
    return torch.softmax(predict_logits(model, images, batch_size, threads=threads), dim=1)


@torch.no_grad()
def forward_single(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Logits ``(1, 10)`` for one image ``(1, 28, 28)`` or ``(1, 1, 28, 28)``: the interactive path
    (predict panel, CLI). Kept separate so its latency can be tuned without touching batch code.

    Runs the folded model (``folding.frozen``), built once per model and rebuilt whenever a weight
    changes: an optimizer step, ``load_state_dict`` or any in-place edit bumps PyTorch's version
    counter, which is part of the cache key. (Writes through ``.data`` bypass that counter, as
    they bypass autograd; edit weights under ``torch.no_grad()`` instead.) On the CPU the frozen
    weights run in numpy (``folding.numpy_forward``) when every layer has a numpy form: for one
    image PyTorch's fixed cost per operation is most of the time."""
    if x.dim() == 3:
        x = x.unsqueeze(0)
    was_training = model.training
    if was_training:
        model.eval()
    params = list(model.parameters())
    device = params[0].device
    try:
        net, run_numpy = _frozen_cached(model, params)
        if run_numpy is not None and device.type == "cpu" and x.shape[0] == 1 and x.dtype == torch.float32:
            return torch.from_numpy(run_numpy(x.numpy(force=True)[0]))
        with _one_image_settings(device):
            return net(x.to(device)).float().cpu()
    finally:
        if was_training:
            model.train()


_FROZEN: "weakref.WeakKeyDictionary[nn.Module, tuple]" = weakref.WeakKeyDictionary()


def _frozen_cached(model: nn.Module, params: list[nn.Parameter]) -> tuple[nn.Module, Callable | None]:
    """``frozen(model)`` and its numpy form, remembered until a parameter is replaced or changed in
    place. (A new dtype, device or shape means new storage, so the storage address covers those too.)"""
    key = tuple((p.data_ptr(), p._version) for p in params)
    hit = _FROZEN.get(model)
    if hit is not None and hit[0] == key:
        return hit[1] or model, hit[2]
    net = frozen(model)
    run_numpy = numpy_forward(net) if params[0].device.type == "cpu" else None
    _FROZEN[model] = (key, net if net is not model else None, run_numpy)  # never the model itself: a weak key must not be kept alive
    return net, run_numpy


@contextmanager
def _one_image_settings(device: torch.device) -> Iterator[None]:
    """Nothing, on purpose. This used to switch oneDNN off and PyTorch to one thread for the length
    of a call, but both settings are global to the process: with predictions running in several
    threads, one call's "restore" undid another's, and oneDNN was left off for good (issue 16).
    The common case, a CPU model that folds to numpy, never reaches here; the rest (max pooling,
    other devices) pays oneDNN's setup per image (measured earlier: about 280 us per forward
    against 140 us without it). The thread count belongs to ``threads.use_threads`` alone."""
    yield
