"""LeNet-5, the course's reference network, written out layer by layer (notebook 02).

LeCun et al. (1998) fed 32x32 images to a 5x5 convolution without padding; ``padding="same"`` on
28x28 MNIST gives the same 28x28 C1 maps. The layer lab's variants (other kernels, max pooling,
...) are built from a :class:`~lenet_utils.config.LeNetConfig` by :mod:`lenet_utils.lab_net`.

The layer order is stated here once, for every reader of a network's parts: :func:`layers_in_order`
(the shape table, folding) and :func:`conv_stages` (the feature maps a lesson shows, the features
the not-a-digit detector reads, the folded network's conv part).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["LeNet5", "conv_stages", "count_parameters", "layers_in_order"]


class LeNet5(nn.Module):
    """The reference LeNet-5: 61,706 parameters, one attribute per layer, in the order the input
    meets them."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding="same")   # C1: six 5x5 kernels
        self.pool1 = nn.AvgPool2d(2, 2)                    # S2: the mean of each 2x2 window
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(6, 16, 5)                   # C3: sixteen 6x5x5 kernels
        self.pool2 = nn.AvgPool2d(2, 2)                    # S4
        self.relu2 = nn.ReLU()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(400, 120)                     # C5
        self.fc2 = nn.Linear(120, 84)                      # F6
        self.fc3 = nn.Linear(84, 10)                       # one score per digit

    def forward(self, x: torch.Tensor) -> torch.Tensor:   # (B, 1, 28, 28) normalised pixels
        x = self.conv1(x)                                  # (B, 6, 28, 28)
        x = self.pool1(x)                                  # (B, 6, 14, 14)
        x = self.relu1(x)
        x = self.conv2(x)                                  # (B, 16, 10, 10)
        x = self.pool2(x)                                  # (B, 16, 5, 5)
        x = self.relu2(x)
        x = self.flatten(x)                                # (B, 400)
        x = self.fc1(x)                                    # (B, 120)
        x = self.fc2(x)                                    # (B, 84)
        return self.fc3(x)                                 # (B, 10) raw scores: softmax at inference


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters of any model: 61,706 for :class:`LeNet5`."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def layers_in_order(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """``[(name, layer), ...]`` in the order ``model``'s forward runs them, for the networks that
    promise that order: :class:`LeNet5` (its forward above) and any ``nn.Sequential``, such as
    :class:`~lenet_utils.lab_net.LabNet`. A ``ValueError`` for any other model: its forward may
    run its layers in any order, so no table or folding can be read off its attributes."""
    if type(model) is LeNet5 or isinstance(model, nn.Sequential):
        return list(model.named_children())
    raise ValueError(f"{type(model).__name__} does not promise to run its layers in the order it lists them; "
                     "use a LeNet5 or an nn.Sequential (a LabNet)")


def conv_stages(model: nn.Module) -> tuple[list[str], list[str]]:
    """The names of the layers of LeNet-5's two convolution stages: ``conv1`` up to ``conv2``, and
    ``conv2`` up to ``flatten`` (``(["conv1", "pool1", "relu1"], ["conv2", "pool2", "relu2"])`` for
    :class:`LeNet5`). Everything from ``flatten`` on is the fully connected head; the conv part,
    both stages and ``flatten``, turns an image into the 400 numbers ``fc1`` reads."""
    names = [name for name, _ in layers_in_order(model)]
    if not {"conv1", "conv2", "flatten"} <= set(names) or not 0 == names.index("conv1") < names.index("conv2") \
            < names.index("flatten"):
        raise ValueError("expected a LeNet-5 whose layers are named conv1, ..., conv2, ..., flatten, ... in that "
                         f"order (this model has {', '.join(names) or 'no named layers'})")
    conv2, flatten = names.index("conv2"), names.index("flatten")
    return names[:conv2], names[conv2:flatten]
