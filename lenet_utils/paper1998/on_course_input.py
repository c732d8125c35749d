"""The 1998 network behind the course's interface: the course's normalised 28x28 input in, ten scores out.

The predict panel, ``lenet evaluate`` and ``predict_logits`` hand a model MNIST-normalised images
``(B, 1, 28, 28)`` and read ``(B, 10)`` scores (highest wins, softmax gives probabilities).
:class:`PaperOnCourseInput` undoes the course's normalisation, applies the paper's (32x32, -0.1 to
1.175), runs :class:`~lenet_utils.paper1998.model.LeNet5Paper` and returns ``-penalty``: the
softmax of these scores is ``exp(-y_i) / sum_k exp(-y_k)``, the class probabilities of eq. (9)
without its rubbish class."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..data import MNIST_MEAN, MNIST_STD
from .data import BACKGROUND, INK
from .model import LeNet5Paper

__all__ = ["PaperOnCourseInput"]


class PaperOnCourseInput(nn.Module):
    """``LeNet5Paper`` reading the course's input; ``.paper`` is the network itself."""

    def __init__(self, paper: LeNet5Paper) -> None:
        super().__init__()
        self.paper = paper

    def forward(self, x: torch.Tensor) -> torch.Tensor:        # (B, 1, 28, 28) normalised -> (B, 10) scores
        if x.dim() == 3:
            x = x.unsqueeze(1)
        ink = (x * MNIST_STD + MNIST_MEAN).clamp(0.0, 1.0)      # (B, 1, 28, 28): 0 paper .. 1 ink
        x = ink * (INK - BACKGROUND) + BACKGROUND
        x = F.pad(x, (2, 2, 2, 2), value=BACKGROUND)            # (B, 1, 32, 32)
        return LeNet5Paper.scores(self.paper(x))
