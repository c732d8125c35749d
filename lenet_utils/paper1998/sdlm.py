"""The stochastic diagonal Levenberg-Marquardt method (LeCun et al. 1998, Appendix C and section III-C).

Each parameter w_k gets a learning rate of its own,

    eps_k = eta / (mu + h_kk),

where h_kk estimates the second derivative of the loss with respect to w_k, eta is the global rate of
the schedule and mu = 0.02 keeps the rate finite where the curvature is tiny. Flat directions take big
steps, curved ones small steps: a cheap, per-parameter Newton step.

h_kk comes from a Gauss-Newton backward pass of *second* derivatives, the mirror of backpropagation
(Appendix C): for a unit i with weighted sum a_i and state x_i = f(a_i),

    d2E/da_i^2 = f'(a_i)^2 d2E/dx_i^2                    (the f'' term dropped: Gauss-Newton)
    d2E/dx_j^2 = sum_i w_ij^2 d2E/da_i^2                  (off-diagonal terms dropped)
    d2E/dw_k^2 = sum over the connections (i, j) sharing w_k of d2E/da_i^2 x_j^2

It is estimated on 500 training images before each pass and kept fixed during the pass.

Interpretations (written down in notebook 04b):

* The output layer: the paper starts the recursion at the RBF layer without spelling out the second
  derivative of the MAP loss there. We start from the curvature of the loss's first term,
  y_D = sum_j (x_j - w_Dj)^2, whose second derivative in each F6 state is exactly 2; the competitive
  log term is left out (its Gauss-Newton curvature is at most of the same size and it is not
  positive in general). The paper reports "the effective learning rates during the first pass
  varied between approximately 7e-5 and 0.016"; ours span about 1e-6 to 0.025 (the benchmark
  records each pass's ``rate_min`` and ``rate_max``): wider at both ends, so the paper's curvature
  estimate differed from ours in a way the text does not let us pin down.
* "Re-estimated on 500 samples": h_kk is the plain average over the 500 images (the paper's running
  average with gamma = 1/n).
* Batches: the paper updated after every image. In PyTorch one image at a time costs ~4 ms, 4 minutes
  a pass on one free core (more on a shared one). Training steps on the *sum* of the losses of a
  small batch (``reduction="sum"``) with the same per-parameter rates: to first order the same as
  that many single-image steps. Not to second order: at the start the curvature estimate misses the
  coupling between parameters, and a batch of 64 makes the first steps too big (on the test's toy
  digits SDLM learns with batches of 1, 4 and 16 and diverges with 64; on MNIST with 64, one seed
  of three diverged in its first pass and the other two lost ground in their second: see
  benchmarks/results/paper1998.json). The default is 16 (~0.6 ms an image); the benchmark's runs
  say which batch they used.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch.nn.grad import conv2d_input, conv2d_weight

from .model import A, LeNet5Paper, S

__all__ = ["ETA_SCHEDULE", "MU", "SDLM", "diagonal_hessian", "eta_for_pass"]

MU = 0.02
# (passes, eta): 0.0005 for the first two passes, 0.0002 for the next three, 0.0001 for the next
# three, 0.00005 for the next four and 0.00001 thereafter (section III-C).
ETA_SCHEDULE: tuple[tuple[int, float], ...] = ((2, 5e-4), (3, 2e-4), (3, 1e-4), (4, 5e-5))
ETA_LAST = 1e-5


def eta_for_pass(index: int) -> float:
    """The global learning rate of pass ``index`` (0-based): 0.0005, 0.0005, 0.0002, ..., 0.00001."""
    if index < 0:
        raise ValueError(f"pass index must be 0 or more, got {index}")
    start = 0
    for passes, eta in ETA_SCHEDULE:
        if index < start + passes:
            return eta
        start += passes
    return ETA_LAST


class SDLM(torch.optim.Optimizer):
    """``p <- p - eta / (mu + h) * grad`` for every parameter, ``h`` its diagonal Hessian estimate.

    Call :meth:`set_curvature` (e.g. with :func:`diagonal_hessian`) before the first step and again
    before each pass; set the pass's global rate with :meth:`set_eta` (or ``param_groups[0]["lr"]``)."""

    def __init__(self, params: Iterable[torch.nn.Parameter], eta: float = 5e-4, mu: float = MU) -> None:
        if eta <= 0 or mu <= 0:
            raise ValueError(f"eta and mu must be positive, got eta={eta}, mu={mu}")
        super().__init__(params, {"lr": eta, "mu": mu})

    def set_eta(self, eta: float) -> None:
        for group in self.param_groups:
            group["lr"] = eta

    def set_curvature(self, curvature: dict[torch.nn.Parameter, torch.Tensor]) -> None:
        """``{parameter: h}``, ``h`` the same shape as the parameter (non-negative)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p not in curvature:
                    raise KeyError("set_curvature needs an estimate for every parameter the optimizer updates")
                h = curvature[p].detach()
                if h.shape != p.shape or bool((h < 0).any()):
                    raise ValueError(f"curvature must be non-negative and shaped like its parameter {tuple(p.shape)}")
                self.state[p]["h"] = h.clone()

    def learning_rates(self) -> dict[torch.nn.Parameter, torch.Tensor]:
        """Each parameter's own rates ``eta / (mu + h)``."""
        rates = {}
        for group in self.param_groups:
            for p in group["params"]:
                if "h" not in self.state[p]:
                    raise RuntimeError("SDLM has no curvature estimate yet: call set_curvature() first")
                rates[p] = group["lr"] / (group["mu"] + self.state[p]["h"])
        return rates

    @torch.no_grad()
    def step(self, closure=None):  # noqa: ANN001 - the torch.optim signature
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        rates = self.learning_rates()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.sub_(rates[p] * p.grad)
        return loss


def _fprime(a: torch.Tensor) -> torch.Tensor:
    """The derivative of ``A tanh(S a)``."""
    return A * S * (1 - torch.tanh(S * a) ** 2)


@torch.no_grad()
def diagonal_hessian(model: LeNet5Paper, images: torch.Tensor) -> dict[torch.nn.Parameter, torch.Tensor]:
    """Gauss-Newton estimate of d2E/dw_k^2 for every parameter, averaged over ``images`` (B, 1, 32, 32).

    Runs the forward pass, then the backward pass of second derivatives layer by layer (module
    docstring). The labels are not needed: the Gauss-Newton curvature of y_D is 2 whatever D is."""
    n = images.shape[0]
    m = model
    # forward, keeping every weighted sum a and every state x
    x0 = images                                                  # (N, 1, 32, 32)
    a1 = m.c1(x0)                                                # (N, 6, 28, 28)
    x1 = m.c1_act(a1)
    s2 = m.s2.window_sums(x1)                                    # (N, 6, 14, 14)
    a2 = m.s2(x1)
    x2 = m.s2_act(a2)
    k3 = m.c3.full_kernel()                                      # (16, 6, 5, 5)
    a3 = F.conv2d(x2, k3, m.c3.bias)                             # (N, 16, 10, 10)
    x3 = m.c3_act(a3)
    s4 = m.s4.window_sums(x3)                                    # (N, 16, 5, 5)
    a4 = m.s4(x3)
    x4 = m.s4_act(a4)
    a5 = m.c5(x4)                                                # (N, 120, 1, 1)
    x5 = m.c5_act(a5).flatten(1)                                 # (N, 120)
    a6 = m.f6(x5)                                                # (N, 84)

    h: dict[torch.nn.Parameter, torch.Tensor] = {}
    # output: d2E/dx6^2 = 2 for every F6 state (the y_D term)
    d2a6 = _fprime(a6) ** 2 * 2.0                                # (N, 84)
    h[m.f6.weight] = d2a6.T @ x5 ** 2 / n                        # (84, 120)
    h[m.f6.bias] = d2a6.mean(0)
    d2x5 = d2a6 @ m.f6.weight ** 2                               # (N, 120)

    d2a5 = _fprime(a5) ** 2 * d2x5.view_as(a5)                   # (N, 120, 1, 1)
    h[m.c5.weight] = conv2d_weight(x4 ** 2, m.c5.weight.shape, d2a5) / n
    h[m.c5.bias] = d2a5.sum((0, 2, 3)) / n
    d2x4 = conv2d_input(x4.shape, m.c5.weight ** 2, d2a5)        # (N, 16, 5, 5)

    d2a4 = _fprime(a4) ** 2 * d2x4
    h[m.s4.weight] = (d2a4 * s4 ** 2).sum((0, 2, 3)) / n
    h[m.s4.bias] = d2a4.sum((0, 2, 3)) / n
    d2x3 = F.interpolate(d2a4 * m.s4.weight.view(1, -1, 1, 1) ** 2, scale_factor=2.0)   # (N, 16, 10, 10)

    d2a3 = _fprime(a3) ** 2 * d2x3
    full = conv2d_weight(x2 ** 2, k3.shape, d2a3) / n            # (16, 6, 5, 5)
    h[m.c3.weight] = full[m.c3.out_index, m.c3.in_index]         # (60, 5, 5): Table I's kernels only
    h[m.c3.bias] = d2a3.sum((0, 2, 3)) / n
    d2x2 = conv2d_input(x2.shape, k3 ** 2, d2a3)                 # (N, 6, 14, 14)

    d2a2 = _fprime(a2) ** 2 * d2x2
    h[m.s2.weight] = (d2a2 * s2 ** 2).sum((0, 2, 3)) / n
    h[m.s2.bias] = d2a2.sum((0, 2, 3)) / n
    d2x1 = F.interpolate(d2a2 * m.s2.weight.view(1, -1, 1, 1) ** 2, scale_factor=2.0)   # (N, 6, 28, 28)

    d2a1 = _fprime(a1) ** 2 * d2x1
    h[m.c1.weight] = conv2d_weight(x0 ** 2, m.c1.weight.shape, d2a1) / n
    h[m.c1.bias] = d2a1.sum((0, 2, 3)) / n
    return h
