"""LeNet-5, built from a config a student can tweak.

The default config is the course's reference network, exactly::

    (B, 1, 28, 28)
    Conv2d(1, 6, 5, padding="same") -> AvgPool2d(2, 2) -> ReLU      # (B, 6, 14, 14)
    Conv2d(6, 16, 5)                -> AvgPool2d(2, 2) -> ReLU      # (B, 16, 5, 5)
    Flatten -> Linear(400, 120) -> Linear(120, 84) -> Linear(84, 10) # (B, 10) raw logits

61,706 parameters. LeCun et al. (1998) fed 32x32 images to a 5x5 convolution without padding;
``padding="same"`` on 28x28 MNIST gives the same 28x28 C1 maps.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections import OrderedDict
from typing import Any, Iterator

import torch
from torch import nn

from .config import ACTIVATIONS, MAX_ACTIVATIONS, MAX_CHANNELS, MAX_PARAMETERS, MAX_WIDTH, POOL_SIZE, POOLS, ConfigError, LeNetConfig

# An even kernel with padding="same" is legal (PyTorch pads the far side one pixel more) but warns on
# every first forward; the lab offers even kernels, so the note is silenced here, for this case only.
warnings.filterwarnings("ignore", message="Using padding='same' with even kernel", category=UserWarning)


class LeNet5(nn.Module):
    """LeNet-5 as two stages: ``features`` (convolutions) and ``classifier`` (Linear layers).

    ``LeNet5()`` is the reference network; ``LeNet5(config)`` or ``LeNet5(pool="max")`` a variant.
    """

    def __init__(self, config: LeNetConfig | None = None, **overrides: Any):
        super().__init__()
        config = dataclasses.replace(config or LeNetConfig(), **overrides)  # validates
        self.config = config
        sizes = config.feature_sizes()

        features: list[tuple[str, nn.Module]] = []
        in_ch = config.in_channels
        for i, stage in enumerate(("conv1", "conv2"), start=1):
            out_ch = getattr(config, f"{stage}_channels")
            features.append((stage, nn.Conv2d(in_ch, out_ch, getattr(config, f"{stage}_kernel"),
                                              padding=getattr(config, f"{stage}_padding"))))
            features.append((f"pool{i}", POOLS[config.pool](POOL_SIZE, POOL_SIZE)))
            act = ACTIVATIONS[config.activation]
            if act is not None:
                features.append((f"act{i}", act()))
            in_ch = out_ch
        self.features = nn.Sequential(OrderedDict(features))

        classifier: list[tuple[str, nn.Module]] = [("flatten", nn.Flatten())]
        width = sizes["flatten"]
        for i, hidden in enumerate(config.fc_widths, start=1):
            if i > 1 and config.dropout > 0:
                classifier.append((f"drop{i}", nn.Dropout(config.dropout)))
            classifier.append((f"fc{i}", nn.Linear(width, hidden)))
            fc_act = ACTIVATIONS[config.fc_activation]
            if fc_act is not None:
                classifier.append((f"fc{i}_act", fc_act()))
            width = hidden
        if config.fc_widths and config.dropout > 0:
            classifier.append(("drop_out", nn.Dropout(config.dropout)))
        classifier.append(("out", nn.Linear(width, config.num_classes)))
        self.classifier = nn.Sequential(OrderedDict(classifier))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 1, 28, 28), normalised pixels
        x = self.features(x)                               # (B, 16, 5, 5) for the reference
        return self.classifier(x)                          # (B, 10) raw logits: softmax at inference

    def steps(self) -> Iterator[tuple[str, nn.Module]]:
        """Every layer in the order the input meets it: ``("conv1", Conv2d(...)), ...``."""
        yield from self.features.named_children()
        yield from self.classifier.named_children()

    @torch.no_grad()
    def trace(self, x: torch.Tensor) -> list[tuple[str, nn.Module, torch.Tensor]]:
        """Run ``x`` layer by layer and keep each output: ``[(name, layer, output), ...]``.

        Used for the shape table and for feature maps."""
        outputs = []
        for name, layer in self.steps():
            x = layer(x)
            outputs.append((name, layer, x))
        return outputs

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """Class probabilities, softmax over the logits: ``(B, 10)``, rows summing to 1."""
        return torch.softmax(self(x), dim=1)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters of any model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
