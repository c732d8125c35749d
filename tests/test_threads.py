"""The thread policy: CPUs from affinity and cgroup quotas, lowered under load, explicit choices win,
and PyTorch's setting is always put back."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import torch

from lenet_utils.fast import threads as T


def _cgroup(tmp_path: Path, proc_line: str, files: dict[str, str]) -> tuple[Path, Path]:
    root = tmp_path / "cgroup"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    proc = tmp_path / "proc-self-cgroup"
    proc.write_text(proc_line)
    return root, proc


def test_cgroup_v2_quota_is_read_and_the_tightest_level_counts(tmp_path):
    root, proc = _cgroup(tmp_path, "0::/kubepods/pod1/student\n", {
        "kubepods/cpu.max": "400000 100000\n",                  # 4 CPUs for all pods
        "kubepods/pod1/cpu.max": "150000 100000\n",             # 1.5 for this one
        "kubepods/pod1/student/cpu.max": "max 100000\n",        # no limit of its own
    })
    assert T.cpu_quota(root, proc) == 1.5


def test_cgroup_v2_without_limit_is_none(tmp_path):
    root, proc = _cgroup(tmp_path, "0::/user.slice\n", {"user.slice/cpu.max": "max 100000\n"})
    assert T.cpu_quota(root, proc) is None


def test_cgroup_v1_quota(tmp_path):
    root, proc = _cgroup(tmp_path, "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n", {
        "cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "250000\n",
        "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
    })
    assert T.cpu_quota(root, proc) == 2.5
    root, proc = _cgroup(tmp_path / "none", "4:cpu,cpuacct:/\n", {
        "cpu,cpuacct/cpu.cfs_quota_us": "-1\n", "cpu,cpuacct/cpu.cfs_period_us": "100000\n"})
    assert T.cpu_quota(root, proc) is None


def test_unreadable_cgroup_means_no_quota(tmp_path):
    assert T.cpu_quota(tmp_path, tmp_path / "missing") is None


def test_usable_cpus_rounds_the_quota_down_and_keeps_at_least_one(monkeypatch):
    monkeypatch.setattr(T.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    for quota, want in [(None, 4), (2.5, 2), (8.0, 4), (0.5, 1)]:
        monkeypatch.setattr(T, "cpu_quota", lambda q=quota: q)
        assert T.usable_cpus() == want


@pytest.fixture
def quiet_policy(monkeypatch):
    """No OMP_NUM_THREADS, PyTorch as imported, 2 CPUs; the load is set per test."""
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(T, "_IMPORT_THREADS", torch.get_num_threads())
    monkeypatch.setattr(T, "usable_cpus", lambda: 2)

    def set_load(load, others):
        monkeypatch.setattr(T, "machine_load", lambda: (load, others))
    return set_load


def test_policy_uses_every_cpu_on_a_quiet_machine_and_one_on_a_busy_one(quiet_policy):
    quiet_policy(0.1, 0.1)
    d = T.decide_threads()
    assert (d.threads, d.source) == (2, "policy") and str(d) == "2 threads: 2 CPUs, load 0.1"
    quiet_policy(3.9, 3.9)
    d = T.decide_threads()
    assert d.threads == 1 and str(d).startswith("1 thread: 2 CPUs, load 3.9")
    quiet_policy(2.0, 0.8)       # most of the load is this process's own training: others take ~1 CPU
    assert T.decide_threads().threads == 1
    quiet_policy(2.0, 0.3)
    assert T.decide_threads().threads == 2


def test_explicit_choices_win(quiet_policy, monkeypatch):
    quiet_policy(3.9, 3.9)
    d = T.decide_threads(2)
    assert (d.threads, d.source) == (2, "argument") and str(d) == "2 threads: set by argument"
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert T.decide_threads().source == "OMP_NUM_THREADS=2"
    monkeypatch.delenv("OMP_NUM_THREADS")
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(3 if before != 3 else 2)     # the student chose, after importing us
        d = T.decide_threads()
        assert (d.threads, d.source) == (torch.get_num_threads(), "torch.set_num_threads")
    finally:
        torch.set_num_threads(before)
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="threads="):
            T.decide_threads(bad)


def test_use_threads_sets_and_restores(quiet_policy):
    quiet_policy(3.9, 3.9)
    before = torch.get_num_threads()
    with T.use_threads() as d:
        assert torch.get_num_threads() == d.threads == 1
        with T.use_threads(2) as inner:                     # nested: the outer count holds
            assert inner.threads == 1 and torch.get_num_threads() == 1
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError):
        with T.use_threads():
            raise RuntimeError("a failing training run")
    assert torch.get_num_threads() == before


def test_concurrent_calls_agree_and_the_last_one_out_restores(quiet_policy):
    quiet_policy(3.9, 3.9)
    before = torch.get_num_threads()
    inside, seen, go = threading.Barrier(4), [], threading.Event()

    def work():
        with T.use_threads():
            inside.wait(timeout=10)
            seen.append(torch.get_num_threads())
            go.wait(timeout=10)

    workers = [threading.Thread(target=work) for _ in range(4)]
    for w in workers:
        w.start()
    while len(seen) < 4:
        pass
    go.set()
    for w in workers:
        w.join()
    assert seen == [1, 1, 1, 1] and torch.get_num_threads() == before


def test_fit_records_and_restores_threads(quiet_policy):
    from toydata import separable

    from lenet_utils import LeNet5, TrainConfig, fit

    quiet_policy(3.9, 3.9)
    before = torch.get_num_threads()
    history = fit(LeNet5(), separable(64), None, TrainConfig(epochs=1, batch_size=32), progress=False)
    assert history.threads == 1 and history.thread_reason.startswith("1 thread: 2 CPUs, load 3.9")
    assert torch.get_num_threads() == before
    history = fit(LeNet5(), separable(64), None, TrainConfig(epochs=1, batch_size=32), progress=False, threads=2)
    assert (history.threads, history.thread_reason) == (2, "2 threads: set by argument")


def test_machine_load_is_sane():
    load, others = T.machine_load()
    assert load >= 0 and others >= 0


def test_runnable_others_does_not_count_this_process_or_a_blip(monkeypatch, tmp_path):
    looks = iter(["0.5 0.4 0.3 9/300 1\n", "0.5 0.4 0.3 2/300 1\n", "0.5 0.4 0.3 7/300 1\n"])

    class FakeLoadavg:
        def __init__(self, *a):
            pass

        def read_text(self):
            return next(looks)

    monkeypatch.setattr(T, "Path", FakeLoadavg)
    monkeypatch.setattr(T, "_own_running", lambda: 2)      # this process: two runnable threads
    assert T.runnable_others(looks=3, gap=0) == 0.0          # 2 - 2: the 9 was a blip


def test_own_running_counts_the_calling_thread():
    assert T._own_running() >= 1
