"""Calibration: is a model right 90% of the times it says "90% sure"? (notebook 04)

* :func:`expected_calibration_error` (ECE): sort the answers into confidence bins (15 by default),
  and average, weighted by how many answers each bin holds, the gap between the bin's accuracy and
  its mean confidence. 0 is perfectly calibrated.
* :func:`fit_temperature`: temperature scaling (Guo et al., 2017). Divide every score (logit) by one
  number ``T`` before the softmax, with ``T`` chosen to minimise the cross-entropy on held-out
  data. ``T > 1`` softens over-confident answers, ``T < 1`` sharpens timid ones. The answer (the
  largest score) never changes, so neither does the accuracy.
* :func:`plot_calibration`: reliability diagrams before and after, on one axes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from .metrics import Reliability, reliability

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["BINS", "expected_calibration_error", "fit_temperature", "plot_calibration", "scaled_probabilities"]

BINS = 15


def expected_calibration_error(probabilities: torch.Tensor, labels: torch.Tensor, bins: int = BINS) -> float:
    """ECE of probabilities ``(N, C)`` against labels ``(N,)`` with ``bins`` equal confidence bins."""
    return reliability(probabilities, labels, bins=bins).ece


def scaled_probabilities(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """``softmax(logits / T)``: ``(N, C)`` scores -> ``(N, C)`` probabilities."""
    if not temperature > 0:
        raise ValueError(f"the temperature must be positive, got {temperature}")
    return (logits.double() / temperature).softmax(1)


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, low: float = 0.05, high: float = 20.0) -> float:
    """The ``T`` in [low, high] that minimises the cross-entropy of ``softmax(logits / T)`` on held-out
    ``(logits (N, C), labels (N,))``. The loss has one minimum in ``log T``: a golden-section search finds it."""
    logits, labels = logits.detach().double().cpu(), labels.cpu().long()
    if len(logits) == 0 or len(logits) != len(labels):
        raise ValueError(f"need as many logits as labels, and some: {len(logits)} and {len(labels)}")

    def loss(log_t: float) -> float:
        return torch.nn.functional.cross_entropy(logits / torch.tensor(log_t).exp(), labels).item()

    a, b = torch.tensor(low).log().item(), torch.tensor(high).log().item()
    g = (5 ** 0.5 - 1) / 2                                    # the golden ratio's 0.618
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = loss(c), loss(d)
    for _ in range(60):                                       # the bracket shrinks to 0.618**60 of its width
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = loss(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = loss(d)
    return float(torch.tensor((a + b) / 2).exp())


def plot_calibration(before: Reliability, after: Reliability | None = None, ax: Axes | None = None,
                     labels: tuple[str, str] = ("before", "after")) -> Axes:
    """Reliability diagram: each bin's accuracy against its mean confidence, before (and after) a
    calibration, with their ECE in the legend. On the dashed diagonal a model is perfectly calibrated.
    Bins holding no answers are left out."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.8, 4.4))
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfectly calibrated")
    for rel, name, marker in ((before, labels[0], "o-"), (after, labels[1], "s-")):
        if rel is None:
            continue
        keep = rel.counts > 0
        ax.plot(rel.confidence[keep].numpy(), rel.accuracy[keep].numpy(), marker, ms=4,
                label=f"{name}: ECE {rel.ece:.4f}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("confidence (mean in each bin)")
    ax.set_ylabel("accuracy in the bin")
    ax.set_title("reliability diagram")
    ax.legend(loc="upper left", fontsize=8)
    return ax
