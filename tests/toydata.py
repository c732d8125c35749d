"""Synthetic data shared by the tests that train (training, experiments, the layer lab)."""

from __future__ import annotations

import torch

from lenet_utils.data import MNISTSplit


def separable(n: int = 256, seed: int = 0) -> MNISTSplit:
    """Digits a conv net learns in a few steps: class k lights up row band k, over faint noise."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 10, (n,), generator=g)                                # (n,)
    pixels = torch.randint(0, 30, (n, 28, 28), generator=g, dtype=torch.uint8)      # (n, 28, 28)
    for i, k in enumerate(labels.tolist()):
        pixels[i, 2 + 2 * k:4 + 2 * k, 4:24] = 255
    return MNISTSplit(pixels, labels, "train")
