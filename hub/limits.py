"""Per-student memory and CPU limits for the one-machine hub, enforced with cgroups where possible.

JupyterHub's LocalProcessSpawner does not enforce ``mem_limit``/``cpu_limit`` (its docs say so):
it only passes them to the server as information. So this module does what the machine allows:

* cgroup v1 (separate ``memory`` and ``cpu`` hierarchies), writable by the hub: one group per
  student, nested under the hub's *own* group (so the machine's own limits still apply above it),
  ``.../lenet-hub-<id>/<name>``, with ``memory.limit_in_bytes`` and a CPU quota. Tested for real.
* cgroup v2 (``/sys/fs/cgroup/cgroup.controllers``; the default on current Ubuntu/Debian): v2 lets
  a group hand controllers to children only when it holds no processes itself, and the hub's own
  group holds the hub. So the groups go under the root: ``/sys/fs/cgroup/lenet-hub-<id>/<name>``,
  after ``+memory +cpu`` is written to ``cgroup.subtree_control`` of the root and of
  ``lenet-hub-<id>``; then ``memory.max``, ``memory.swap.max`` 0 and ``cpu.max``. Tested against a
  fake hierarchy in a folder (tests/test_hub_limits.py), not on a v2 kernel.
* Either way the groups and their files belong to root: a student can neither raise their limit
  nor move a process out of their group (EACCES), and a name that is not one safe path component
  is refused before any folder is made from it. The student's server and every kernel
  it starts are inside. When a kernel passes the limit the kernel (the biggest process) is killed
  by the kernel's OOM killer, Jupyter restarts it, JupyterLab says the kernel died, and the first
  cell the student runs next says it was the memory limit (hub/kernel_note.py); other students are
  untouched.
* no writable cgroups (an unprivileged hub, some containers): nothing is enforced; the hub log
  says so once per student, and hub/README.md tells the lecturer. z2jh enforces both (Kubernetes).

Values come from ``LENET_HUB_MEM`` (e.g. ``2G``) and ``LENET_HUB_CPUS`` (e.g. ``1``); empty = none.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("JupyterHub")
CGROUP = Path("/sys/fs/cgroup")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from accounts import check_name  # noqa: E402


def parse_bytes(text: str) -> int | None:
    """``2G``, ``1536M``, ``2000000000`` -> bytes; empty -> None; anything else is an error."""
    text = (text or "").strip()
    if not text:
        return None
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?", text, re.I)
    if not m:
        raise ValueError(f"LENET_HUB_MEM={text!r} is not a size; use e.g. 2G or 1536M")
    scale = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}[m.group(2).upper()]
    return int(float(m.group(1)) * scale)


MEM_TEXT = os.environ.get("LENET_HUB_MEM", "").strip()
MEM = parse_bytes(MEM_TEXT)
CPUS = float(os.environ["LENET_HUB_CPUS"]) if os.environ.get("LENET_HUB_CPUS", "").strip() else None
# One folder of groups per hub (its state folder), so two hubs' "alice" never share a limit.
HUB_ID = hashlib.sha1(os.environ.get("LENET_HUB_STATE", "").encode()).hexdigest()[:10]


def _own_group(controller: str | None) -> Path | None:
    """The hub's own cgroup directory for ``controller`` (None: the v2 unified tree)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, names, path = line.split(":", 2)
        if (controller is None and names == "") or (controller and controller in names.split(",")):
            base = CGROUP if controller is None else CGROUP / controller
            return base / path.lstrip("/")
    return None


@dataclass
class ProcessLimits:
    """The cgroup files to join for one student; empty when nothing can be enforced."""

    procs_files: list[Path] = field(default_factory=list)
    enforced: str = "nothing"

    @classmethod
    def for_student(cls, name: str) -> ProcessLimits:
        check_name(name)  # UnsafeName: never a folder from '..', 'a/b' or the like
        if MEM is None and CPUS is None:
            return cls()
        groups = []
        try:
            v2 = CGROUP / "cgroup.controllers"
            if v2.is_file():
                wanted = [c for c, on in (("memory", MEM), ("cpu", CPUS)) if on]
                have = set(v2.read_text().split())
                if not set(wanted) <= have:
                    log.warning("limits for %s NOT enforced (cgroup v2 lacks %s)", name, set(wanted) - have)
                    return cls()
                ours = CGROUP / f"lenet-hub-{HUB_ID}"
                _enable(CGROUP, wanted)
                _mkdir(ours)
                _enable(ours, wanted)
                g = ours / name
                _mkdir(g)
                if MEM:
                    (g / "memory.max").write_text(str(MEM))
                    (g / "memory.swap.max").write_text("0")  # the limit means RAM, not RAM + swap
                if CPUS:
                    (g / "cpu.max").write_text(f"{int(CPUS * 100000)} 100000")
                groups = [g]
            else:
                for ctl, wanted in (("memory", MEM), ("cpu", CPUS)):
                    parent = _own_group(ctl)
                    if not wanted:
                        continue
                    if parent is None or not parent.is_dir():
                        continue
                    g = parent / f"lenet-hub-{HUB_ID}" / name
                    _mkdir(g.parent)
                    _mkdir(g)
                    if ctl == "memory" and MEM:
                        (g / "memory.limit_in_bytes").write_text(str(MEM))
                    if ctl == "cpu" and CPUS:
                        (g / "cpu.cfs_period_us").write_text("100000")
                        (g / "cpu.cfs_quota_us").write_text(str(int(CPUS * 100000)))
                    groups.append(g)
        except OSError as err:
            log.warning("limits for %s NOT enforced (cgroups not writable here: %s); "
                        "LENET_HUB_MEM/LENET_HUB_CPUS are advisory only", name, err)
            return cls()
        if not groups:
            log.warning("limits for %s NOT enforced (no cgroup memory/cpu controller found)", name)
            return cls()
        what = ", ".join(x for x in (f"memory {MEM_TEXT}" if MEM else "", f"{CPUS} CPUs" if CPUS else "") if x)
        log.info("limits for %s: %s (cgroups %s)", name, what, ", ".join(map(str, groups)))
        return cls([g / "cgroup.procs" for g in groups], what)

    @staticmethod
    def remove_for_student(name: str) -> None:
        """After the student's server stopped: remove their (now empty) groups; busy ones stay."""
        check_name(name)
        for ctl in (None, "memory", "cpu"):
            parent = CGROUP if ctl is None else _own_group(ctl)
            if parent is not None:
                try:
                    (parent / f"lenet-hub-{HUB_ID}" / name).rmdir()
                except OSError:
                    pass

    def apply_in_child(self) -> None:
        """Runs in the forked server process before exec: join the student's groups."""
        for f in self.procs_files:
            try:
                f.write_text(str(os.getpid()))
            except OSError:
                pass  # logged as enforced in the parent; a failure here is rare and not fatal


def _mkdir(group: Path) -> None:
    """A group its student can look into (kernel_note.py reads its OOM counter) but not change:
    0755 whatever the hub's umask (077), root-owned like every file the kernel makes in it."""
    group.mkdir(exist_ok=True)
    group.chmod(0o755)


def _enable(group: Path, controllers: list[str]) -> None:
    """Let ``group``'s children use ``controllers`` (cgroup v2 ``cgroup.subtree_control``)."""
    control = group / "cgroup.subtree_control"
    on = set(control.read_text().split()) if control.exists() else set()
    missing = [c for c in controllers if c not in on]
    if missing:
        control.write_text(" ".join(f"+{c}" for c in missing))


def peak_memory(state: str, name: str) -> int | None:
    """The most memory the student's group (server and kernels together) has held since it was
    made, in bytes (cgroup v2 ``memory.peak``, v1 ``memory.max_usage_in_bytes``); None when the
    hub on ``state`` enforced no memory limit for them."""
    hub_id = hashlib.sha1(state.encode()).hexdigest()[:10]
    for ctl, file in ((None, "memory.peak"), ("memory", "memory.max_usage_in_bytes")):
        parent = CGROUP if ctl is None and (CGROUP / "cgroup.controllers").is_file() else _own_group(ctl)
        if parent is None:
            continue
        try:
            return int((parent / f"lenet-hub-{hub_id}" / name / file).read_text())
        except (OSError, ValueError):
            continue
    return None


def remove_hub_groups(state: str) -> None:
    """Remove the (empty) groups of the hub on ``state``, e.g. after a test stopped it."""
    hub_id = hashlib.sha1(state.encode()).hexdigest()[:10]
    for ctl in (None, "memory", "cpu"):
        parent = CGROUP if ctl is None else _own_group(ctl)
        folder = parent / f"lenet-hub-{hub_id}" if parent is not None else None
        if folder is None or not folder.is_dir():
            continue
        for g in folder.iterdir():
            if g.is_dir():
                try:
                    g.rmdir()
                except OSError:
                    pass  # a process still inside: leave it
        try:
            folder.rmdir()
        except OSError:
            pass
