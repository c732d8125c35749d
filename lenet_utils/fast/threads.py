"""How many CPU threads PyTorch may use for one heavy call: the thread policy (notebook 03).

Why this exists. PyTorch starts one intra-op thread per core of the *host*. On a shared machine
(a classroom server, a JupyterHub pod whose CPU limit PyTorch does not read) those threads fight
every other student's for the same cores, and each batch waits for its slowest thread: notebook
03 took 9 min 20 s instead of 28 s on two busy cores, and four students at once were 11x slower
than with one thread each (``benchmarks/classroom.py``).

The policy, for ``fit``, ``evaluate``, ``predict_logits``/``predict_proba`` and the layer lab:

1. An explicit choice wins: a ``threads=`` argument, then ``OMP_NUM_THREADS``, then a
   ``torch.set_num_threads(n)`` the user called after importing this package.
2. Otherwise: the CPUs this process may actually use (its affinity mask, capped by a cgroup
   v1/v2 CPU quota, rounded down, at least 1), less the CPUs that *other* processes already keep
   busy (their runnable tasks, the instantaneous figure behind the load average), rounded, at
   least 1.

``use_threads`` is the one place the package changes process state: PyTorch's intra-op thread
count is global to the process, so it is set on entering the heavy call and put back on leaving
it, under a lock, so that concurrent or nested calls agree on one count and the last one out
restores what the user had.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class ThreadDecision:
    """How many threads a heavy call uses, and why (``str()`` gives the one-line reason)."""

    threads: int
    source: str          # "argument" | "OMP_NUM_THREADS" | "torch.set_num_threads" | "policy"
    cpus: int            # CPUs this process may use (affinity and cgroup quota)
    load: float          # 1-minute load average of the machine
    others: float        # other processes' tasks runnable now (CPUs they would keep busy)

    def __str__(self) -> str:
        plural = "thread" if self.threads == 1 else "threads"
        if self.source != "policy":
            return f"{self.threads} {plural}: set by {self.source}"
        why = f"{self.cpus} CPU{'s' if self.cpus != 1 else ''}, load {self.load:.1f}"
        if self.others >= 0.5:
            why += f", {self.others:.0f} tasks of other programs ready to run"
        return f"{self.threads} {plural}: {why}"


# --- what this process may use ----------------------------------------------------------------
def cpu_quota(root: Path = CGROUP_ROOT, proc_cgroup: Path = Path("/proc/self/cgroup")) -> float | None:
    """The CPU limit of this process's cgroup in CPUs (e.g. 1.5), or ``None`` when there is none.

    cgroup v2: ``cpu.max`` ("max 100000" or "150000 100000") in this cgroup and each parent;
    cgroup v1: ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (-1: none). The tightest one counts.
    """
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    limits: list[float] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":                              # v2: "0::/kubepods/pod1/..."
            base, v2 = root, True
        elif "cpu" in controllers.split(","):              # v1: "4:cpu,cpuacct:/docker/abc"
            base, v2 = root / controllers, False
            if not base.is_dir():
                base = root / "cpu"
        else:
            continue
        folder = base / path.lstrip("/")
        for level in [folder, *folder.parents]:
            if level == base.parent:
                break
            limit = _read_v2(level) if v2 else _read_v1(level)
            if limit is not None:
                limits.append(limit)
            if level == base:
                break
    return min(limits) if limits else None


def _read_v2(folder: Path) -> float | None:
    try:
        quota, period = (folder / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        return None


def _read_v1(folder: Path) -> float | None:
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
        return None if quota <= 0 or period <= 0 else quota / period
    except (OSError, ValueError):
        return None


def usable_cpus() -> int:
    """CPUs this process may run on: its affinity mask, capped by the cgroup quota rounded down, >= 1."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):                      # macOS, Windows: no affinity call
        cpus = os.cpu_count() or 1
    quota = cpu_quota()
    if quota is not None:
        cpus = min(cpus, math.floor(quota))
    return max(1, cpus)


# --- how busy the machine already is ------------------------------------------------------------
def machine_load() -> tuple[float, float]:
    """``(load, others)``: the 1-minute load average, and how many CPUs other processes want now.

    The decision uses ``others``, the number of other processes' tasks that are runnable right now:
    the quantity the load average averages, without its two flaws for this purpose. The load
    average counts this process's own threads, and it trails by a minute: a kernel that just
    finished training, or a class that just started, would be misread. The load average is kept
    for the reason printed to people, who know it from ``uptime``."""
    return load_average(), runnable_others()


def load_average() -> float:
    """The 1-minute load average, as ``uptime`` prints it; 0.0 where the OS does not say (Windows)."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def runnable_others(looks: int = 5, gap: float = 0.004) -> float:
    """Tasks of other processes runnable right now: the least of a few looks ~4 ms apart, so that a
    passing blip (a notebook saving, a shell command) does not count, while a busy class does."""
    counts = []
    for i in range(looks):
        try:
            running = int(Path("/proc/loadavg").read_text().split()[3].split("/")[0])
        except (OSError, ValueError, IndexError):          # no /proc: macOS, Windows
            return 0.0
        counts.append(max(0, running - max(1, _own_running())))
        if i + 1 < looks:
            time.sleep(gap)
    return float(min(counts))


def _own_running() -> int:
    """This process's threads that are runnable now (this one, reading, among them)."""
    count = 0
    try:
        for task in Path("/proc/self/task").iterdir():
            try:
                stat = (task / "stat").read_text()
            except OSError:
                continue
            count += stat[stat.rindex(")") + 2] == "R"     # the state follows the "(name)" field
    except OSError:
        return 1
    return count


# --- the decision ---------------------------------------------------------------------------------
_IMPORT_THREADS = torch.get_num_threads()   # PyTorch's count when this package was imported
_LOCK = threading.Lock()
_active: list[int] = []                     # [count set, depth] while a heavy call runs
_saved = 0


def decide_threads(threads: int | None = None) -> ThreadDecision:
    """The thread count for the next heavy call and its reason (``doctor`` prints it)."""
    cpus = usable_cpus()
    load, others = machine_load()
    if threads is not None:
        if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
            raise ValueError(f"threads={threads!r}: give a whole number >= 1, or None to let the package decide")
        return ThreadDecision(threads, "argument", cpus, load, others)
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env:
        return ThreadDecision(torch.get_num_threads(), f"OMP_NUM_THREADS={env}", cpus, load, others)
    current = torch.get_num_threads()
    if not _active and current != _IMPORT_THREADS:
        return ThreadDecision(current, "torch.set_num_threads", cpus, load, others)
    free = cpus - others
    return ThreadDecision(max(1, min(cpus, math.floor(free + 0.5))), "policy", cpus, load, others)


@contextmanager
def use_threads(threads: int | None = None) -> Iterator[ThreadDecision]:
    """Run the block with the policy's thread count, then restore the user's.

    This changes process-wide state (``torch.set_num_threads``) for the length of the block: it
    is the package's only such change, made here and undone here. Nested or concurrent blocks
    share the first block's count; the last to leave restores the count found on entry."""
    global _saved
    with _LOCK:
        if _active:
            _active[1] += 1
            decision = ThreadDecision(_active[0], "an enclosing call", usable_cpus(), *machine_load())
        else:
            decision = decide_threads(threads)
            _saved = torch.get_num_threads()
            if decision.threads != _saved:
                torch.set_num_threads(decision.threads)
            _active[:] = [decision.threads, 1]
    try:
        yield decision
    finally:
        with _LOCK:
            _active[1] -= 1
            if _active[1] == 0:
                _active.clear()
                if torch.get_num_threads() != _saved:
                    torch.set_num_threads(_saved)
