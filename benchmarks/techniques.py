"""What each speed technique gains or loses, measured side by side: seconds per training step.

Every variant trains the reference LeNet-5 with the default recipe on the same batches of 128;
the figure is each variant's median time per step relative to the plain NCHW step (above 1:
faster). The library's default, ``fit(..., fast=True)``, is ``channels_last`` and folded
(``lenet_utils.fast.prepare``).

    nchw             the plain step, PyTorch's default memory layout
    channels_last    the batch in NHWC order (fast.layout.channels_last)
    folded           channels_last through fast.prepare(model): each conv + avg-pool as one
                     stride-2 convolution, the Linear chain as one matrix (fit's default)
    folded_batch_256 folded, batches of 256 (TrainConfig.fast()'s size) and 512: the figure is the time per
    folded_batch_512 128 images, so that a ratio compares throughput
    folded_one_thread folded on one thread instead of all
    one_thread       channels_last on one thread instead of all (shows what the second core adds)
    bf16_autocast    channels_last under torch.autocast("cpu", bfloat16)
    compiled         channels_last through torch.compile (only with --compile: compiling takes minutes)
    dataloader_0/2   the tutorial DataLoader with 0 (the default) or 2 worker processes, including
                     starting them, as every epoch of a tutorial does
"""

from __future__ import annotations

import contextlib
import time

import torch
import torch.nn.functional as F
from epoch import tutorial_loader
from timing import interleaved, median, ratios, spread, sync
from torch import nn

from lenet_utils import LeNet5, MNISTSplit, TrainConfig, set_seed
from lenet_utils.fast import prepare
from lenet_utils.training import make_optimizer


def tutorial_step(step_model: nn.Module, model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor,
                  y: torch.Tensor, config: TrainConfig, amp=None) -> float:
    """The default recipe's step, written out (``step_model`` may be ``model`` compiled)."""
    with amp or contextlib.nullcontext():
        loss = F.cross_entropy(step_model(x), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
    optimizer.step()
    return loss.item()


def step_variant(batches: list[tuple[torch.Tensor, torch.Tensor]], device: torch.device, *, layout: str = "cl",
                 autocast: bool = False, compiled: bool = False, threads: int | None = None, folded: bool = False,
                 merge: int = 1):
    """A callable timing one pass over ``batches``; returns seconds per step of the batches given
    (``merge`` > 1: the batches joined ``merge`` at a time, the time divided by ``merge``)."""
    config = TrainConfig()
    set_seed(0)
    model = LeNet5().to(device)
    step_model = torch.compile(model) if compiled else prepare(model)[0] if folded else model
    optimizer = make_optimizer(model, config)
    fmt = torch.channels_last if layout == "cl" else torch.contiguous_format
    joined = [(torch.cat([x for x, _ in batches[i:i + merge]]), torch.cat([y for _, y in batches[i:i + merge]]))
              for i in range(0, len(batches) - merge + 1, merge)]
    data = [(x.to(device).to(memory_format=fmt), y.to(device)) for x, y in joined]

    def run() -> float:
        saved = torch.get_num_threads()
        if threads is not None:
            torch.set_num_threads(threads)
        amp = torch.autocast(device.type, dtype=torch.bfloat16) if autocast else contextlib.nullcontext()
        try:
            sync(device)
            start = time.perf_counter()
            for x, y in data:
                tutorial_step(step_model, model, optimizer, x, y, config, amp)
            sync(device)
            return (time.perf_counter() - start) / (len(data) * merge)
        finally:
            torch.set_num_threads(saved)
    return run


def dataloader_variant(workers: int, steps: int, device: torch.device):
    """Seconds per step of the tutorial loop over a fresh DataLoader iterator with ``workers`` processes."""
    loader = tutorial_loader(TrainConfig().batch_size)
    loader = torch.utils.data.DataLoader(loader.dataset, batch_size=loader.batch_size, shuffle=True,
                                         num_workers=workers)
    config = TrainConfig()
    set_seed(0)
    model = LeNet5().to(device)
    optimizer = make_optimizer(model, config)

    def run() -> float:
        sync(device)
        start = time.perf_counter()
        for i, (x, y) in enumerate(loader):  # a new iterator: workers start, as at every epoch
            if i == steps:
                break
            tutorial_step(model, model, optimizer, x.to(device), y.to(device), config)
        sync(device)
        return (time.perf_counter() - start) / steps
    return run


def measure(train: MNISTSplit, device: torch.device, *, steps: int, repeats: int, compile: bool = False,
            loader_steps: int = 100) -> dict:
    batch = TrainConfig().batch_size
    g = torch.Generator().manual_seed(0)
    order = torch.randperm(len(train), generator=g)[:steps * batch]
    batches = [(train.images[idx], train.labels[idx]) for idx in order.split(batch)]

    variants = {
        "nchw": step_variant(batches, device, layout="nchw"),
        "channels_last": step_variant(batches, device),
        "folded": step_variant(batches, device, folded=True),
        "folded_batch_256": step_variant(batches, device, folded=True, merge=2),
        "folded_batch_512": step_variant(batches, device, folded=True, merge=4),
        "folded_one_thread": step_variant(batches, device, folded=True, threads=1),
        "one_thread": step_variant(batches, device, threads=1),
        "bf16_autocast": step_variant(batches, device, autocast=True),
    }
    if compile:
        variants["compiled"] = step_variant(batches, device, compiled=True)
    for run in variants.values():  # warm-up (and, for torch.compile, the compilation)
        run()
    per_step = interleaved(variants, repeats)

    loaders = {"dataloader_0": dataloader_variant(0, loader_steps, device),
               "dataloader_2": dataloader_variant(2, loader_steps, device)}
    loader_per_step = interleaved(loaders, max(1, repeats // 2))

    base = per_step["nchw"]
    return {
        "details": {
            "steps_per_round": steps,
            "repeats": repeats,
            "ms_per_step": {k: spread([s * 1e3 for s in v]) for k, v in per_step.items()},
            "speedup_vs_nchw": {k: median(ratios(base, v)) for k, v in per_step.items()},
            "dataloader_steps": loader_steps,
            "dataloader_ms_per_step": {k: spread([s * 1e3 for s in v]) for k, v in loader_per_step.items()},
            "dataloader_workers_2_speedup": median(ratios(loader_per_step["dataloader_0"],
                                                          loader_per_step["dataloader_2"])),
        },
    }
