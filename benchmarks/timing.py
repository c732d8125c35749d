"""Timing helpers shared by the benchmarks: interleaved repetitions, medians, the machine.

A shared or busy machine makes one run of the same code vary by 1.5x or more, so every
comparison here is a ratio of things measured side by side in one process: the variants take
turns (A B C, A B C, ...) and each figure is the median over the repetitions.
"""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import time
from collections.abc import Callable

import torch
from provenance import git_commit


def sync(device: torch.device | str | None = None) -> None:
    """Wait for queued GPU work, so a timer measures the work and not its launch."""
    if device is not None and torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def interleaved(fns: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Call each ``fn`` in turn, ``repeats`` rounds; each returns its own measurement.

    ``{name: [one figure per round]}``: round i of every variant ran at about the same moment,
    so per-round ratios cancel most of the machine's drift."""
    out: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            out[name].append(float(fn()))
    return out


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def ratios(numerators: list[float], denominators: list[float]) -> list[float]:
    """Per-round ratios ``a_i / b_i``: the figure a comparison reports is their median."""
    return [a / b for a, b in zip(numerators, denominators)]


def spread(values: list[float]) -> dict[str, float]:
    """``{"min", "median", "max"}`` of the repetitions, for the JSON."""
    return {"min": min(values), "median": median(values), "max": max(values)}


def per_call_seconds(fn: Callable[[], object], calls: int, blocks: int) -> list[float]:
    """Mean seconds per call over ``blocks`` blocks of ``calls`` calls (for microsecond timings,
    where one ``perf_counter`` pair per call would be a noticeable part of the figure)."""
    out = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        out.append((time.perf_counter() - start) / calls)
    return out


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list[float] | None:
    """1, 5 and 15-minute load averages (Unix); above the core count, other work competes."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def machine(device: torch.device) -> dict[str, object]:
    """What the figures were measured on."""
    info: dict[str, object] = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "commit": git_commit(),
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "platform": platform.platform(terse=True),
        "device": str(device),
        "load_average_start": load_average(),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info
