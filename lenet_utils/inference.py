"""Running a trained model over many images: logits and probabilities in batches."""

from __future__ import annotations

import torch
from torch import nn

EVAL_BATCH_SIZE = 256  # 64-256 is fastest on a 2-core CPU; one batch of 10,000 ran 3x slower


@torch.no_grad()
def predict_logits(model: nn.Module, images: torch.Tensor, batch_size: int = EVAL_BATCH_SIZE) -> torch.Tensor:
    """Raw scores ``(N, 10)`` for ``images`` ``(N, 1, 28, 28)``, on the CPU, in eval mode."""
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        chunks = [model(images[i:i + batch_size].to(device)).float().cpu()
                  for i in range(0, len(images), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(chunks) if chunks else torch.empty(0, 10)


def predict_proba(model: nn.Module, images: torch.Tensor, batch_size: int = EVAL_BATCH_SIZE) -> torch.Tensor:
    """Class probabilities ``(N, 10)``: softmax over the logits, each row sums to 1."""
    return torch.softmax(predict_logits(model, images, batch_size), dim=1)


@torch.no_grad()
def forward_single(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Logits ``(1, 10)`` for one image ``(1, 28, 28)`` or ``(1, 1, 28, 28)``: the interactive path
    (predict panel, CLI). Kept separate so its latency can be tuned without touching batch code."""
    if x.dim() == 3:
        x = x.unsqueeze(0)
    was_training = model.training
    model.eval()
    try:
        return model(x.to(next(model.parameters()).device)).float().cpu()
    finally:
        model.train(was_training)
