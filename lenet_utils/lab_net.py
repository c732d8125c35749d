"""The layer lab's network: LeNet-5 built from a :class:`LeNetConfig` a student can tweak (notebook 06).

``LabNet(config)`` is a flat stack of layers, in the order the input meets them::

    conv1 pool1 relu1 conv2 pool2 relu2 flatten fc1 fc2 fc3        # LabNet(), the reference
    conv1 bn1 pool1 relu1 conv2 bn2 pool2 relu2 flatten fc1 fc2 fc3   # LabNet(batchnorm=True)

Activations are named after the function (``tanh1``; none for ``"none"``), a Linear layer's own
activation after it (``fc1_relu``), dropout after the Linear it feeds (``drop2`` before ``fc2``);
the last Linear is ``fc{n}``. For the reference config the layers and their weights' names are
:class:`~lenet_utils.model.LeNet5`'s, so a ``state_dict`` of either loads into the other.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .config import ACTIVATIONS, POOL_SIZE, POOLS, LeNetConfig


class LabNet(nn.Sequential):
    """LeNet-5 as ``config`` describes it: ``LabNet()`` is the reference, ``LabNet(pool="max")`` a variant."""

    def __init__(self, config: LeNetConfig | None = None, **overrides: Any):
        config = dataclasses.replace(config or LeNetConfig(), **overrides)   # validates
        sizes = config.feature_sizes()
        act, fc_act = ACTIVATIONS[config.activation], ACTIVATIONS[config.fc_activation]
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        in_channels = config.in_channels
        convs = [(config.conv1_channels, config.conv1_kernel, config.conv1_padding),
                 (config.conv2_channels, config.conv2_kernel, config.conv2_padding)]
        for i, (channels, kernel, padding) in enumerate(convs, start=1):
            layers[f"conv{i}"] = _conv(in_channels, channels, kernel, padding)
            if config.batchnorm:            # each map rescaled to mean 0, std 1 over the batch, then a learnt affine
                layers[f"bn{i}"] = nn.BatchNorm2d(channels)
            layers[f"pool{i}"] = POOLS[config.pool](POOL_SIZE, POOL_SIZE)
            if act is not None:
                layers[f"{config.activation}{i}"] = act()
            in_channels = channels
        layers["flatten"] = nn.Flatten()
        widths = [sizes["flatten"], *config.fc_widths, config.num_classes]     # 400, 120, 84, 10
        last = len(widths) - 1
        for i in range(1, last + 1):
            if i > 1 and config.dropout > 0:
                layers[f"drop{i}"] = nn.Dropout(config.dropout)
            layers[f"fc{i}"] = nn.Linear(widths[i - 1], widths[i])
            if i < last and fc_act is not None:
                layers[f"fc{i}_{config.fc_activation}"] = fc_act()
        super().__init__(layers)
        self.config = config


def _conv(in_channels: int, out_channels: int, kernel: int, padding: int | str) -> nn.Conv2d:
    if padding == "same" and kernel % 2 == 0:
        return EvenSameConv2d(in_channels, out_channels, kernel, padding="same")
    return nn.Conv2d(in_channels, out_channels, kernel, padding=padding)


class EvenSameConv2d(nn.Conv2d):
    """``Conv2d(..., padding="same")`` with an even kernel, which the lab offers.

    PyTorch pads the far side one pixel more, through a padded copy of the input, and warns about
    that copy on the first call in every process: a note for a library author, noise in a lesson. This
    layer pads the same pixels itself (``F.pad``), so the output is PyTorch's and nothing warns; it
    is still a ``Conv2d`` with ``padding == "same"``, the same weights and the same name in tables."""

    def _conv_forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        kh, kw = self.kernel_size
        x = F.pad(x, ((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2))   # (left, right, top, bottom)
        return F.conv2d(x, weight, bias, self.stride, 0, self.dilation, self.groups)
