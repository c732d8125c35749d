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
* When to estimate it. Section III-C re-estimates h_kk before every pass (``PaperTrainConfig(curvature=
  "each_pass")``). Read that way, training loses ground in pass 2: after one pass many tanh units sit
  near saturation, the Gauss-Newton estimate below them falls towards zero, and their rates rise to the
  cap eta/mu. Measured (``benchmarks/paper1998.py --curvature-drift``, "curvature_drift" in the result
  file; seed 0, one image at a time, after one pass over the 60,000 digits at 2.34% test error):
  re-estimated, 30.8% of C5's weights sit at the cap (0.4% at the start) and C1's smallest weight
  rate rises from 4.8e-05 to 1.4e-03; over the next 20,000 images the mean training loss per 5,000
  is 29.8, 22.3, 22.2, 24.3 and the test error ends at 20.86%, against 5.5, 5.0, 5.6, 5.5 and 2.14%
  with the curvature of the start kept. So ``PaperTrainConfig`` estimates it once, before the first
  pass (``curvature="once"``), by default.
* One image at a time, as the paper (``PaperTrainConfig.batch_size = 1``). Earlier runs here stepped
  on the *summed* loss of 64 images with the same rates, "to first order 64 single-image steps",
  and went wrong: one seed of three diverged in its first pass, the other two lost ground in their
  second (benchmarks/results/paper1998.json, the b64 rows). Why: the rates eta / (mu + h) are sized
  for the curvature of *one* image. On a quadratic, a step on the summed loss of B images multiplies
  the error along the stiffest direction of the rate-scaled Gauss-Newton matrix by 1 - B lambda
  (:func:`preconditioned_sharpness`) and overshoots, growing, once B lambda > 2. The diagonal
  estimate cannot see it: each diagonal entry eta h / (mu + h) is below eta, so lambda is the
  coupling between parameters. Measured at the paper's start (``benchmarks/paper1998.py
  --diagnose``, "diagnosis" in the result file; eta = 0.0005, seed 0): lambda = 0.74 for the
  mean loss of 500 training images, 1.40 to 1.82 for single images. So a single-image step
  does not overshoot at the start, and a summed batch does from B = 3 on. Two passes over 2,000
  training digits, test error on 1,000: batch 1 11.5%, batch 2 11.0%, batch 4 12.5%, batch 16
  14.2% with twice the training loss, batch 64 90.6% (tanh saturation caps the overshoot, which
  is why 4 and 16 still learn).
  The benchmark records each pass's lambda (``sharpness``). One image at a time is slow in PyTorch,
  mostly per-call overhead; single images train with PyTorch's plain convolutions instead of
  oneDNN's (``train.plain_convolutions``; ``benchmarks/paper1998.py --step-speed`` times both).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch.nn.grad import conv2d_input, conv2d_weight

from .model import A, LeNet5Paper, S

__all__ = ["ETA_SCHEDULE", "MU", "SDLM", "diagonal_hessian", "eta_for_pass", "preconditioned_sharpness"]

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
                self.state[p].pop("rate", None)

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
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "h" not in state:
                    raise RuntimeError("SDLM has no curvature estimate yet: call set_curvature() first")
                # the rates change only with eta, mu or h: computed once, not at every image
                if state.get("rate_for") != (group["lr"], group["mu"]) or "rate" not in state:
                    state["rate"] = group["lr"] / (group["mu"] + state["h"])
                    state["rate_for"] = (group["lr"], group["mu"])
                p.addcmul_(p.grad, state["rate"], value=-1.0)
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


def preconditioned_sharpness(model: LeNet5Paper, optimizer: SDLM, images: torch.Tensor,
                             iterations: int = 30, seed: int = 0) -> float:
    """The largest eigenvalue of ``E^1/2 G E^1/2``: G the Gauss-Newton matrix of y_D averaged over
    ``images`` (the full matrix, off-diagonal terms included), E the optimizer's per-parameter rates.

    On a quadratic, one SDLM step on the *summed* loss of B images multiplies the error along that
    eigenvector by ``1 - B * lambda``: the steps overshoot and grow when ``B * lambda > 2``. Found by
    power iteration: ``iterations`` products ``G v = J^T 2 J v / N``, J the Jacobian of F6's states."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    rates = optimizer.learning_rates()
    root = [rates[p].sqrt() for p in params]
    n = images.shape[0]
    with torch.enable_grad():
        states = model.features(images)                                   # (N, 84)
        probe = torch.zeros_like(states, requires_grad=True)
        # J^T probe, kept as a graph: its derivative in probe along w is J w (forward mode by two reverses)
        pulled = torch.autograd.grad(states, params, probe, create_graph=True)
        g = torch.Generator().manual_seed(seed)
        v = [torch.randn(p.shape, generator=g) for p in params]
        value = 0.0
        for _ in range(iterations):
            norm = torch.sqrt(sum((t ** 2).sum() for t in v))
            v = [t / norm for t in v]
            (jv,) = torch.autograd.grad(pulled, probe, [r * t for r, t in zip(root, v)], retain_graph=True)
            gv = torch.autograd.grad(states, params, 2.0 * jv / n, retain_graph=True)   # J^T 2 J E^1/2 v / N
            w = [r * t for r, t in zip(root, gv)]
            value = float(sum((a * b).sum() for a, b in zip(w, v)))                   # Rayleigh quotient
            v = w
    return value
