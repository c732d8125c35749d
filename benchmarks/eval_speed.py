"""Test-set evaluation throughput: ``lenet_utils.evaluate`` at its default batch size, and in
the same rounds at other batch sizes and layer by layer, unfolded (why the defaults are what
they are). ``evaluate`` runs the folded network (``fast.frozen``, through ``fast=True``): conv + avg-pool as one
stride-2 convolution, the three Linear layers as one matrix."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from timing import interleaved, median, ratios, spread, sync
from torch import nn

from lenet_utils import MNISTSplit, evaluate
from lenet_utils.fast import channels_last
from lenet_utils.inference import EVAL_BATCH_SIZE


def measure(model: nn.Module, test: MNISTSplit, *, repeats: int,
            batch_sizes: tuple[int, ...] = (64, 512, 1024, 10_000)) -> dict:
    device = next(model.parameters()).device

    def run(batch_size: int):
        def once() -> float:
            sync(device)
            start = time.perf_counter()
            evaluate(model, test, batch_size=batch_size)
            sync(device)
            return len(test) / (time.perf_counter() - start)
        return once

    def layer_by_layer(layout) -> Callable[[], float]:
        """``evaluate`` as it would be without folding: the model's own layers, one by one."""
        def once() -> float:
            sync(device)
            start = time.perf_counter()
            with torch.no_grad():
                logits = torch.cat([model(layout(test.images[i:i + EVAL_BATCH_SIZE].to(device))).float().cpu()
                                    for i in range(0, len(test), EVAL_BATCH_SIZE)])
                F.cross_entropy(logits, test.labels).item()
                (logits.argmax(1) == test.labels).float().mean().item()
            sync(device)
            return len(test) / (time.perf_counter() - start)
        return once

    sizes = (EVAL_BATCH_SIZE,) + tuple(b for b in batch_sizes if b != EVAL_BATCH_SIZE)
    variants = {f"batch_{b}": run(b) for b in sizes}
    variants[f"batch_{EVAL_BATCH_SIZE}_layer_by_layer"] = layer_by_layer(channels_last)  # the default before folding
    variants[f"batch_{EVAL_BATCH_SIZE}_layer_by_layer_nchw"] = layer_by_layer(lambda x: x)
    variants[f"batch_{EVAL_BATCH_SIZE}"]()  # warm-up
    rates = interleaved(variants, repeats)
    default = median(rates[f"batch_{EVAL_BATCH_SIZE}"])
    return {
        "eval_images_per_s": default,
        "details": {
            "images": len(test),
            "default_batch_size": EVAL_BATCH_SIZE,
            "repeats": repeats,
            "images_per_s": {name: spread(v) for name, v in rates.items()},
            "relative_to_default": {name: median(ratios(v, rates[f"batch_{EVAL_BATCH_SIZE}"]))
                                    for name, v in rates.items()},
        },
    }
