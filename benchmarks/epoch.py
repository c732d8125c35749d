"""Seconds per training epoch: the usual tutorial pipeline against lenet_utils' own.

Four ways to train the same LeNet-5 with the same recipe (SGD with Nesterov momentum,
one-cycle schedule, weight decay, gradient clipping) at the same batch size, taking turns:

    dataloader      the usual tutorial: torchvision's MNIST dataset with ToTensor + Normalize,
                    a DataLoader that builds each batch from 128 PIL images, a plain loop
    float_copy      the same plain loop over lenet_utils.BatchLoader holding a normalised float
                    copy of the whole split (188 MB per process: how every kernel held MNIST before)
    batchloader     the same plain loop over lenet_utils.BatchLoader as ``fit`` uses it: the uint8
                    pixels memory-mapped from the IDX file (one copy per machine), a batch is a
                    slice of a seeded permutation, made float and normalised on the spot
    layer_by_layer  lenet_utils.fit(..., fast=False): the model as written, NCHW, layer by layer
    fit             lenet_utils.fit with its defaults (fast=True): the fast layer, lenet_utils/fast/

``batchloader`` against ``float_copy`` is what sharing MNIST between kernels costs per epoch
(``shared_map_over_float_copy``, a ratio of seconds: 1.0 costs nothing).
``fit`` against ``dataloader`` is ``epoch_speedup_vs_dataloader``; the middle rows split the
gain into the loader's part and the fast layer's (folding and layout). The machine's matmul peak is
measured in the same rounds, so the training throughput's fraction of the peak is a per-round
ratio too.

That fraction counts LeNet-5's own 2.264 MFLOP per image, as the issue defines it, whatever
the code executes. Folding executes fewer: PyTorch's FlopCounterMode counts them on one real
step, and ``executed_fraction_of_peak`` is the hardware's share of the peak doing them.
"""

from __future__ import annotations

import math
import time

import torch
import torch.nn.functional as F
from peak import matmul_gflops
from timing import median, ratios, spread, sync
from torch import nn

from lenet_utils import BatchLoader, LeNet5, MNISTSplit, TrainConfig, fit, set_seed
from lenet_utils.fast import prepare
from lenet_utils.paths import data_root
from lenet_utils.training import make_optimizer, make_scheduler

# Multiply-adds of one forward pass of the reference LeNet-5, x2 for FLOPs:
# conv1 28*28*6*25 + conv2 10*10*16*6*25 + fc 400*120 + 120*84 + 84*10 = 416,520 MACs = 0.833 MFLOP.
# Training is forward + backward, the backward costing twice the forward (gradients with respect
# to the weights and to the inputs), less conv1's input gradient, which nobody needs:
# 3 * 833,040 - 235,200 = 2,263,920 FLOP per image, 135.8 GFLOP per 60,000-image epoch.
TRAIN_FLOP_PER_IMAGE = 2.264e6


def tutorial_loader(batch_size: int) -> torch.utils.data.DataLoader:
    """The DataLoader of nearly every MNIST tutorial (one process, no workers: workers were slower here)."""
    from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    dataset = datasets.MNIST(str(data_root()), train=True, download=False, transform=transform)
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True)


def plain_epoch(loader, config: TrainConfig, device: torch.device, max_steps: int | None) -> tuple[float, int]:
    """The textbook loop over ``loader`` with the default recipe; returns (seconds, images seen)."""
    set_seed(0)
    model = LeNet5().to(device)
    steps = len(loader) if max_steps is None else min(max_steps, len(loader))
    optimizer = make_optimizer(model, config)
    scheduler = make_scheduler(optimizer, config, steps)
    model.train()
    seen = 0
    sync(device)
    start = time.perf_counter()
    for step, (x, y) in enumerate(loader):
        if step == steps:
            break
        x, y = x.to(device), y.to(device)
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        scheduler.step()
        loss.item()  # the usual running-loss bookkeeping: one read of the loss per step
        seen += len(y)
    sync(device)
    return time.perf_counter() - start, seen


def fit_epoch(train: MNISTSplit, config: TrainConfig, device: torch.device, max_steps: int | None,
              fast: bool = True) -> tuple[float, int]:
    """One epoch (or ``max_steps`` batches) of ``lenet_utils.fit`` with its defaults, no test pass."""
    set_seed(0)
    model = LeNet5()
    sync(device)
    start = time.perf_counter()
    history = fit(model, train, None,
                  TrainConfig(epochs=1, max_steps=max_steps, batch_size=config.batch_size),
                  progress=False, device=device, fast=fast)
    sync(device)
    seconds = time.perf_counter() - start
    return seconds, min(len(train), history.steps_done * config.batch_size)


def executed_flop_per_image(folded: bool, batch_size: int = 128) -> float:
    """FLOPs PyTorch runs for one training image (forward and backward), counted on one step."""
    from torch.utils.flop_counter import FlopCounterMode

    set_seed(0)
    model = LeNet5()
    net = prepare(model)[0] if folded else model
    x, y = torch.randn(batch_size, 1, 28, 28), torch.randint(0, 10, (batch_size,))
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(net(x), y).backward()
    return counter.get_total_flops() / batch_size


def measure(train: MNISTSplit, device: torch.device, *, repeats: int, max_steps: int | None,
            peak_side: int) -> dict:
    """Seconds per epoch of the three pipelines and the matmul peak, ``repeats`` interleaved rounds."""
    config = TrainConfig()
    steps_per_epoch = math.ceil(len(train) / config.batch_size)
    dataloader = tutorial_loader(config.batch_size)
    batchloader = BatchLoader(train.pixels, train.labels, config.batch_size, seed=0, device=device)
    float_copy = BatchLoader(train.images[:], train.labels, config.batch_size, seed=0, device=device)

    # A warm-up round, not counted: first calls allocate, pick kernels and fill caches.
    warm = min(max_steps or 10, 10)
    plain_epoch(dataloader, config, device, warm)
    plain_epoch(batchloader, config, device, warm)
    plain_epoch(float_copy, config, device, warm)
    fit_epoch(train, config, device, warm)
    fit_epoch(train, config, device, warm, fast=False)

    per_epoch: dict[str, list[float]] = {"dataloader": [], "float_copy": [], "batchloader": [], "layer_by_layer": [],
                                         "fit": []}
    images_per_s: list[float] = []
    peaks: list[float] = []
    for _ in range(repeats):
        for name, run in (("dataloader", lambda: plain_epoch(dataloader, config, device, max_steps)),
                          ("float_copy", lambda: plain_epoch(float_copy, config, device, max_steps)),
                          ("batchloader", lambda: plain_epoch(batchloader, config, device, max_steps)),
                          ("layer_by_layer", lambda: fit_epoch(train, config, device, max_steps, fast=False)),
                          ("fit", lambda: fit_epoch(train, config, device, max_steps))):
            seconds, seen = run()
            per_epoch[name].append(seconds / seen * len(train))  # a partial epoch (smoke) is scaled up
            if name == "fit":
                images_per_s.append(seen / seconds)
        peaks.append(matmul_gflops(peak_side, device=device))

    train_gflops = [TRAIN_FLOP_PER_IMAGE * r / 1e9 for r in images_per_s]
    speedups = ratios(per_epoch["dataloader"], per_epoch["fit"])
    fractions = ratios(train_gflops, peaks)
    counted = executed_flop_per_image(folded=False)
    if abs(counted - TRAIN_FLOP_PER_IMAGE) > 0.001 * TRAIN_FLOP_PER_IMAGE:  # the constant above, checked
        raise AssertionError(f"FlopCounterMode counts {counted:,.0f} FLOP per image, not {TRAIN_FLOP_PER_IMAGE:,.0f}")
    executed = executed_flop_per_image(folded=True)                          # fit's default, fast=True
    executed_fractions = [f * executed / TRAIN_FLOP_PER_IMAGE for f in fractions]
    return {
        "epoch_speedup_vs_dataloader": median(speedups),
        "train_fraction_of_peak": median(fractions),
        "details": {
            "batch_size": config.batch_size,
            "steps_per_epoch": steps_per_epoch,
            "steps_timed": max_steps or steps_per_epoch,
            "repeats": repeats,
            "seconds_per_epoch": {name: spread(v) for name, v in per_epoch.items()},
            "speedup_per_round": speedups,
            "loader_speedup": median(ratios(per_epoch["dataloader"], per_epoch["batchloader"])),
            "shared_map_over_float_copy": median(ratios(per_epoch["batchloader"], per_epoch["float_copy"])),
            "fit_over_plain_loop_speedup": median(ratios(per_epoch["batchloader"], per_epoch["fit"])),
            "fold_speedup": median(ratios(per_epoch["layer_by_layer"], per_epoch["fit"])),
            "train_images_per_s": median(images_per_s),
            "train_gflops": median(train_gflops),
            "train_flop_per_image": TRAIN_FLOP_PER_IMAGE,
            "peak_gflops": spread(peaks),
            "peak_matmul_side": peak_side,
            "fraction_of_peak_per_round": fractions,
            "executed_flop_per_image": executed,
            "executed_fraction_of_peak": median(executed_fractions),
        },
    }
