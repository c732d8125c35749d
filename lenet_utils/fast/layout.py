"""Memory layout: a CPU batch of images stored pixel by pixel (channels_last), for speed only.

Part of the speed layer notebook 03 names (``fit(..., fast=True)``); ``fast.prepare`` picks the layout.
"""

from __future__ import annotations

import torch


def channels_last(x: torch.Tensor) -> torch.Tensor:
    """A CPU batch ``(B, C, H, W)`` stored pixel by pixel, the C values of a pixel side by side (NHWC).

    Same shape, same values; only the order in memory changes. The CPU convolutions (oneDNN) and
    pooling run faster on it: 1.2-1.4x per training step and 1.3x evaluation on two cores
    (``benchmarks/``). Anything else (another device, not a batch of images) is returned as is."""
    if x.device.type != "cpu" or x.dim() != 4:
        return x
    return x.to(memory_format=torch.channels_last)


def as_is(x: torch.Tensor) -> torch.Tensor:
    """The batch unchanged (NCHW): the layout the folded network runs fastest in at inference."""
    return x
