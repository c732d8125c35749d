"""Tell a student why their last kernel died, when it was the out-of-memory killer.

The hub copies this file into each student's ``$IPYTHONDIR/profile_default/startup/`` on every
spawn, so every kernel of theirs runs it at start. A kernel that passes the student's memory limit
is killed by the OOM killer; Jupyter restarts it and JupyterLab says only "the kernel appears to
have died". This script reads the student's cgroup's OOM-kill counter (cgroup v2
``memory.events``, v1 ``memory.oom_control``). When it went up since the last kernel started,
the first cell the student runs prints why, the limit, and what to do.

It only reads: no setting changes, nothing imported beyond the standard library. Where the hub
could not set a limit (no writable cgroups; hub/limits.py logs it) the counter belongs to a group
the student shares with the hub, so it may also report an OOM kill of another process there.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")
SEEN = Path(os.environ.get("IPYTHONDIR", Path.home() / ".ipython")) / "lenet-oom-kills-seen"


def _memory_group() -> tuple[Path, int] | None:
    """(the memory cgroup folder of this process, its cgroup version) or None."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return CGROUP / "memory" / path.lstrip("/"), 1
    for line in lines:
        if line.startswith("0::"):
            return CGROUP / line[3:].lstrip("/"), 2
    return None


def _field(file: Path, name: str) -> int | None:
    try:
        for line in file.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == name:
                return int(value)
    except (OSError, ValueError):
        return None
    return None


def _read_int(file: Path) -> int | None:
    try:
        text = file.read_text().strip()
        return None if text == "max" else int(text)
    except (OSError, ValueError):
        return None


def oom_kills_and_limit() -> tuple[int, int | None] | None:
    """(OOM kills counted in this process's memory cgroup, its limit in bytes or None)."""
    group = _memory_group()
    if group is None:
        return None
    folder, version = group
    if version == 2:
        kills, limit = _field(folder / "memory.events", "oom_kill"), _read_int(folder / "memory.max")
    else:
        kills, limit = _field(folder / "memory.oom_control", "oom_kill"), _read_int(folder / "memory.limit_in_bytes")
    if kills is None:
        return None
    if limit is not None and limit >= 1 << 60:  # cgroup v1 writes "no limit" as a huge number
        limit = None
    return kills, limit


def message(kills_before: int, kills_now: int, limit: int | None) -> str:
    what = f"more than your {limit / 2**30:.1f} GiB" if limit else "more memory than the machine could give"
    times = "once" if kills_now - kills_before == 1 else f"{kills_now - kills_before} times"
    return (f"[class hub] Your previous kernel was stopped by the out-of-memory killer ({times}): it used "
            f"{what}.\n  Its variables are gone; your files and notebooks are safe. Re-run the cells you need "
            "from the top.\n  To stay under the limit: close the notebooks you are not using (each open "
            "notebook has its own kernel, Kernel > Shut Down), and avoid full-dataset float copies "
            "(split.images[:]).\n")


def install(ip) -> None:
    now = oom_kills_and_limit()
    if now is None:
        return
    kills, limit = now
    try:
        before = int(SEEN.read_text())
    except (OSError, ValueError):
        before = kills  # the first kernel ever: nothing to report
    try:
        SEEN.parent.mkdir(parents=True, exist_ok=True)
        tmp = SEEN.with_suffix(f".{os.getpid()}")
        tmp.write_text(str(kills))
        tmp.replace(SEEN)
    except OSError:
        pass
    if kills <= before:
        return
    text = message(before, kills, limit)

    def show_once(*_args) -> None:  # during a cell, so the text lands in that cell's output
        ip.events.unregister("pre_run_cell", show_once)
        sys.stderr.write(text)

    ip.events.register("pre_run_cell", show_once)


def _main() -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is not None:  # None when a test imports this file outside a kernel
        install(ip)


_main()
