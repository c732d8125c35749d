"""What LeNet-5 does with one digit: its feature maps and what they add to the answer (notebook 05's panel).

    >>> inside = look_inside(model, prediction.image)      # the (1, 28, 28) input the network saw
    >>> inside.conv1.shape, inside.conv2.shape             # (6, 14, 14), (16, 5, 5)
    >>> inside.top(5)                                      # [(map, contribution), ...] largest first

The two stages are read with forward hooks, after pooling and activation: for :class:`LeNet5` the
outputs of ``relu1`` and ``relu2``. For any network built like it (a :class:`LabNet`, whatever its
activation) they are the outputs of the last layer of each of ``model.conv_stages`` (the one place the
package says which layers are the conv part).

The contributions answer "which of the 16 conv2 maps pushed the winning score up?". Each map's
contribution is its activations times the score's gradient with respect to them, summed over the
map. Everything after ``relu2`` in the reference LeNet-5 is linear (``fc1``, ``fc2`` and ``fc3``
have no activation between them), so there the 16 contributions plus one constant (the score for
all-zero maps) add up to the score exactly. With activations between the Linear layers they are
the same first-order split, exact only near this input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..model import conv_stages

__all__ = ["LookInside", "look_inside", "stage_layers"]


@dataclass
class LookInside:
    """One digit seen from inside the network. Arrays are float32 NumPy, on the CPU."""

    input: np.ndarray          # (28, 28) the normalised input the network read
    conv1: np.ndarray          # (6, 14, 14) conv1's maps after pooling and activation
    conv2: np.ndarray          # (16, 5, 5) conv2's maps after pooling and activation
    label: int                 # the winning digit
    score: float               # its raw score (logit)
    contributions: np.ndarray  # (16,) what each conv2 map adds to ``score``
    constant: float            # ``score - contributions.sum()``: the score for all-zero conv2 maps (LeNet5)

    def top(self, k: int = 5) -> list[tuple[int, float]]:
        """The ``k`` conv2 maps that add most to the winning score: ``[(map index, contribution), ...]``."""
        order = np.argsort(-self.contributions, kind="stable")[:k]
        return [(int(i), float(self.contributions[i])) for i in order]


def stage_layers(model: nn.Module) -> tuple[str, str]:
    """The names of the layers whose outputs are the two feature-map stages: the last layer of each
    of :func:`~lenet_utils.model.conv_stages` (``relu1`` and ``relu2`` in :class:`LeNet5`)."""
    try:
        first, second = conv_stages(model)
    except ValueError:
        names = ", ".join(name for name, _ in model.named_children()) or "no named layers"
        raise ValueError("look_inside needs a LeNet-5 whose layers are named conv1, ..., conv2, ..., flatten "
                         f"(this model has {names})") from None
    return first[-1], second[-1]


def look_inside(model: nn.Module, image: torch.Tensor, label: int | None = None) -> LookInside:
    """Run ``image`` ((1, 28, 28) or (1, 1, 28, 28), normalised as for training) through ``model``
    and keep both stages' feature maps and each conv2 map's share of the score of ``label`` (the
    winning digit when None). The model's weights, gradients and train/eval mode are left as they were."""
    first, second = stage_layers(model)
    layers = dict(model.named_children())
    device = next(model.parameters()).device
    x = image.detach().reshape(1, 1, *image.shape[-2:]).to(device, torch.float32)
    seen: dict[str, torch.Tensor] = {}

    def keep_first(_module, _inputs, output):
        seen["conv1"] = output.detach()

    def keep_second(_module, _inputs, output):
        # A fresh leaf in place of the output: the score's gradient lands here and in no weight's .grad.
        leaf = output.detach().requires_grad_(True)
        seen["conv2"] = leaf
        return leaf

    hooks = [layers[first].register_forward_hook(keep_first), layers[second].register_forward_hook(keep_second)]
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            logits = model(x)                                           # (1, 10)
            winner = int(logits[0].argmax()) if label is None else int(label)
            (grad,) = torch.autograd.grad(logits[0, winner], seen["conv2"])   # (1, 16, 5, 5)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    score = float(logits[0, winner].detach())
    maps2 = seen["conv2"].detach()
    contributions = (maps2 * grad).sum(dim=(2, 3))[0]                  # (16,)
    return LookInside(
        input=x[0, 0].cpu().numpy(),
        conv1=seen["conv1"][0].cpu().numpy(),
        conv2=maps2[0].cpu().numpy(),
        label=winner,
        score=score,
        contributions=contributions.cpu().numpy(),
        constant=score - float(contributions.sum()),
    )
