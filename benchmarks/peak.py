"""The machine's measured peak: GFLOP/s of a large fp32 matrix multiply.

A square matmul of side n costs 2 n^3 floating-point operations and is the best case for the
BLAS library (MKL or OpenBLAS on a CPU, cuBLAS on a GPU), so its rate is the practical ceiling
that LeNet-5's training throughput is compared with.
"""

from __future__ import annotations

import statistics
import time

import torch
from timing import sync


def matmul_gflops(n: int = 2048, repeats: int = 5, device: torch.device | str = "cpu") -> float:
    """Median GFLOP/s of ``repeats`` multiplies of two ``(n, n)`` fp32 matrices (after one warm-up)."""
    g = torch.Generator(device="cpu").manual_seed(0)
    a = torch.randn(n, n, generator=g).to(device)
    b = torch.randn(n, n, generator=g).to(device)
    out = torch.empty(n, n, device=device)
    torch.mm(a, b, out=out)  # warm-up: thread pool, caches, GPU kernels
    rates = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        sync(device)
        rates.append(2 * n**3 / (time.perf_counter() - start) / 1e9)
    return float(statistics.median(rates))
