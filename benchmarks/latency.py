"""Single-image latency: a tensor to logits, and PNG bytes to a prediction.

The interactive path for the shipped model (``predict_image``'s default, the predict panel, the
app, the CLI) is a ``fast.Frozen`` copy folded once at load, reported as ``forward_single``: one
28x28 image, one forward pass. ``freeze_sealed`` is the same path as those callers reach it,
``fast.freeze(model)(x)`` on a model ``fast.seal`` ed for answers (the one cache's lookup, no weight
check). ``freeze_checked`` is the path of any other model, ``fast.freeze(model)(x)``, which also
compares the weights with its copy on every call. It is compared, in the same rounds, with
a plain ``model(x)`` under ``torch.no_grad()`` with PyTorch's defaults (oneDNN on, every
thread), with oneDNN off, and on one thread.
``predict_image`` adds decoding and the MNIST-style preprocessing of an uploaded digit.
"""

from __future__ import annotations

import copy

import torch
from timing import interleaved, median, per_call_seconds, ratios, spread
from torch import nn

from lenet_utils import MNISTSplit
from lenet_utils.fast import Frozen, freeze, seal


def measure_forward(model: nn.Module, test: MNISTSplit, *, calls: int, blocks: int) -> dict:
    model = model.eval()
    device = next(model.parameters()).device
    x = test.images[0]                                               # (1, 28, 28)
    xb = x.unsqueeze(0).to(device)                                   # (1, 1, 28, 28)

    def plain(onednn: bool, threads: int | None):
        def call():
            saved, saved_onednn = torch.get_num_threads(), torch.backends.mkldnn.enabled
            torch.set_num_threads(threads or saved)
            torch.backends.mkldnn.enabled = onednn
            try:
                with torch.no_grad():
                    model(xb).cpu()
            finally:
                torch.backends.mkldnn.enabled = saved_onednn
                torch.set_num_threads(saved)
        return call

    frozen = Frozen(model)                                           # what fast.seal builds at load
    sealed = seal(copy.deepcopy(model))                              # the shipped model as predict holds it
    variants = {"forward_single": lambda: frozen(x),                 # the shipped model's one-image path
                "freeze_sealed": lambda: freeze(sealed)(x),           # ... reached through the one cache
                "freeze_checked": lambda: freeze(model)(x),           # any other model's (predict.answer)
                "model_call": plain(True, None),                      # PyTorch's defaults
                "onednn_off": plain(False, None),
                "one_thread": plain(True, 1)}
    for fn in variants.values():   # warm-up
        for _ in range(20):
            fn()
    # Each round: one block of ``calls`` calls per variant; the figure is the median block mean.
    rounds = interleaved({name: (lambda fn=fn: per_call_seconds(fn, calls, 1)[0]) for name, fn in variants.items()},
                         blocks)
    us = {name: [s * 1e6 for s in v] for name, v in rounds.items()}
    return {
        "forward_latency_us_median": median(us["forward_single"]),
        "details": {
            "calls_per_block": calls,
            "blocks": blocks,
            "latency_us": {name: spread(v) for name, v in us.items()},
            "speedup_vs_model_call": {name: median(ratios(us["model_call"], v)) for name, v in us.items()},
        },
    }


def measure_predict(*, runs: int) -> dict:
    """``predict_image`` from PNG bytes, through the predict panel's own benchmark
    (``predict_latency.py``: the shipped model, a 400x400 RGB PNG of one of the course's example
    digits, decoding, preprocessing and the forward pass taking turns), so the course has one
    definition of this figure."""
    import predict_latency

    found = predict_latency.run(runs=runs, verbose=False)
    return {"predict_latency_ms_median": found["predict_image_ms"], "details": found}
