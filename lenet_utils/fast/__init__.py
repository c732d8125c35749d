"""Speed, as one layer beside the plain network: the same maths, fewer and larger operations.

Nothing here changes what the network computes; everything here changes how fast. The lessons
use the plain :class:`~lenet_utils.LeNet5` and the textbook loop (notebooks 02 and 03); ``fit``,
``evaluate`` and ``predict_logits`` enter this layer at one seam, their ``fast=True`` argument,
which calls :func:`prepare`; the benchmarks use the same seam. The one-image path (the predict
panel, the app and the CLI, notebook 05) answers through :func:`freeze`, a frozen copy kept per
model (the package's one such cache); :func:`seal` marks a model that only answers, so its copy is
folded once and never checked again.

* ``folding``   each conv + 2x2 average as one stride-2 convolution, the Linear chain as one matrix
* ``frozen``    a model folded once for answers: batches in PyTorch, one image in numpy; the cache
* ``layout``    channels_last batches for the CPU's convolutions
* ``threads``   how many CPU threads a heavy call may use on a shared machine

``fast=True`` is the default because it is exact (the folded network computes the same function
of the same weights, to float rounding; the tests compare them) and it is what keeps the course
interactive on a laptop CPU: a training epoch is about 1.5x faster and evaluation 3.5-4x
(``benchmarks/README.md``). ``fast=False`` runs the model exactly as written, layer by layer,
for stepping through it or timing the difference.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .folding import fold
from .frozen import Frozen, freeze, seal
from .layout import as_is, channels_last
from .threads import ThreadDecision, decide_threads, use_threads

Forward = Callable[[torch.Tensor], torch.Tensor]   # a network, or a layout: a batch in, a batch out

__all__ = ["Frozen", "ThreadDecision", "channels_last", "decide_threads", "fold", "freeze", "prepare", "seal",
           "use_threads"]


def prepare(model: nn.Module, *, training: bool = True) -> tuple[Forward, Forward]:
    """``(net, layout)``: the network to run instead of ``model`` and what to do to each input batch
    before it (``net(layout(x))``).

    Training: :func:`~.folding.fold`, the model's own weights re-folded at every step so that the
    optimizer moves them, with channels_last batches (1.2-1.4x per step, measured with folding).
    Inference: a :class:`~.frozen.Frozen` copy folded once; NCHW batches when it folded (measured
    1.6x faster than channels_last for it), channels_last when nothing folds."""
    if training:
        return fold(model), channels_last
    net = Frozen(model)
    return net, as_is if net.folded else channels_last
