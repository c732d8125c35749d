"""Fine-tuning the shipped model on the class's own digits, without forgetting MNIST.

    tuned = finetune(load_pretrained(), class_train, mnist_train)
    evaluate(tuned, class_test).accuracy, evaluate(tuned, mnist_test).accuracy

A few hundred new digits are easy to overfit, and a network trained only on them forgets what it
knew ("catastrophic forgetting"). Two habits keep it honest: a small learning rate, and every
batch mixes the class's digits with MNIST digits replayed from the training set.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..data import Augment, MNISTSplit, normalize


@dataclass(frozen=True)
class FinetuneConfig:
    steps: int = 150            # batches; ~15 passes over 160 class digits
    class_per_batch: int = 32   # of the class's digits in each batch
    replay_per_batch: int = 96  # MNIST training digits mixed into each batch, so MNIST is not forgotten
    lr: float = 0.01            # a tenth of the shipped model's peak: nudge the weights, not retrain
    momentum: float = 0.9
    augment: bool = True        # shifts, small rotations, zoom (data.Augment)
    seed: int = 0


def finetune(model: nn.Module, class_train: MNISTSplit, replay: MNISTSplit | None = None,
             config: FinetuneConfig = FinetuneConfig()) -> nn.Module:
    """A fine-tuned copy of ``model`` (the original is untouched). ``replay``: MNIST's training split."""
    tuned = copy.deepcopy(model).train()
    g = torch.Generator().manual_seed(config.seed)
    opt = torch.optim.SGD(tuned.parameters(), lr=config.lr, momentum=config.momentum)
    augment = Augment() if config.augment else None
    for _ in range(config.steps):
        pick = torch.randint(len(class_train), (config.class_per_batch,), generator=g)
        pixels, labels = [class_train.pixels[pick]], [class_train.labels[pick]]
        if replay is not None and config.replay_per_batch:
            old = torch.randint(len(replay), (config.replay_per_batch,), generator=g)
            pixels.append(replay.pixels[old])
            labels.append(replay.labels[old])
        x = normalize(torch.cat(pixels))                       # (B, 1, 28, 28) float, as in training
        y = torch.cat(labels).long()                           # (B,)
        if augment is not None:
            x = augment(x, generator=g)
        loss = F.cross_entropy(tuned(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return tuned.eval()
