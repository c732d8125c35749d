"""Each student's own ``/tmp`` and a size-limited home, on a hub running as root (hub/README.md:
'What is isolated').

Without this, every account shares the machine's ``/tmp``, ``/var/tmp``, ``/dev/shm`` and ``/home``:
one student filling them fills the machine's disk for the whole class (and the hub's own state).

* **Private temporary folders.** The student's server starts in a mount namespace of its own
  (``unshare(CLONE_NEWNS)`` in the forked child, still root, before it becomes the student), with
  mount propagation made private and a fresh ``tmpfs`` of ``LENET_HUB_TMP`` (``512M`` by default)
  mounted on ``/tmp``, ``/var/tmp`` and ``/dev/shm``. Every kernel the server starts inherits it.
  So A's ``/tmp`` is not B's (A sees none of B's files) and filling it stops with ENOSPC in A's own
  tmpfs. tmpfs pages are memory, charged to the memory cgroup of the process that writes them
  (A's group, hub/limits.py): what A keeps in ``/tmp`` counts against A's memory limit, never
  against the machine's disk or a classmate. The tmpfs goes away with A's server (its last process).
* **A home of a fixed size.** The home (``/home/<account>``) is an ext4 file system in an image file
  of ``LENET_HUB_DISK`` (``2G`` by default, sparse: it takes on the machine's disk only what the
  student wrote, plus a 4 MiB journal), ``/var/lib/lenet-hub/homes/<account>.img`` (a root-only
  folder), loop-mounted ``nosuid,nodev`` on the home when the server starts. Filling it stops with
  ENOSPC in the student's own file system. It stays mounted while the machine runs (a hub restart
  keeps students' servers, and their homes, as they are); after a reboot the next start mounts it
  again. A home made before disk limits existed (it holds ``notebooks`` and has no image) is left
  as it is, unlimited, and the hub log says so: mounting an empty image over it would hide the
  student's work.
* Either needs root and a kernel that lets the hub make mount namespaces and loop devices
  (``available()`` tries once, at start-up). Where it cannot (an unprivileged hub, some
  containers), nothing of this applies, and the hub log says so.

Sizes: ``LENET_HUB_TMP`` / ``LENET_HUB_DISK``, e.g. ``256M``, ``2G``; empty = no private /tmp / no
disk limit.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from limits import parse_bytes  # noqa: E402

log = logging.getLogger("JupyterHub")
TMP_TEXT = os.environ.get("LENET_HUB_TMP", "512M").strip()
DISK_TEXT = os.environ.get("LENET_HUB_DISK", "2G").strip()


def _size(var: str, text: str) -> int | None:
    try:
        return parse_bytes(text)
    except ValueError:
        raise SystemExit(f"error: {var}={text!r} is not a size; use e.g. 512M or 2G ('' = none)") from None


TMP = _size("LENET_HUB_TMP", TMP_TEXT)
DISK = _size("LENET_HUB_DISK", DISK_TEXT)
IMAGES = Path(os.environ.get("LENET_HUB_IMAGES", "/var/lib/lenet-hub/homes"))
PRIVATE_TMP = ("/tmp", "/var/tmp", "/dev/shm")

# <sched.h> and <sys/mount.h>
CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x4000, 0x40000


def _libc():
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def available() -> str | None:
    """None when this hub can give students a private /tmp and loop-mounted homes; else why not,
    in one line (tried for real, in a throw-away process)."""
    if os.geteuid() != 0:
        return "the hub does not run as root"
    try:
        r = subprocess.run(["unshare", "--mount", "--propagation", "private", "mount", "-t", "tmpfs",
                            "-o", "size=1m", "tmpfs", "/tmp"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"unshare could not run: {err}"
    if r.returncode != 0:
        return f"no mount namespace with a tmpfs here: {r.stderr.strip() or r.returncode}"
    if not Path("/dev/loop-control").exists():
        return "no loop devices (/dev/loop-control) for size-limited homes"
    return None


@dataclass
class PrivateTmp:
    """What the forked server does, as root, before it becomes the student (``enter_in_child``)."""

    size: int | None

    def enter_in_child(self) -> None:
        """A mount namespace of the server's own, private propagation, a tmpfs on each temporary
        folder. Raises OSError (the spawn fails, and the hub log says why) rather than start the
        server on the shared /tmp when private ones were promised."""
        if not self.size:
            return
        libc = self._libc
        if libc.unshare(CLONE_NEWNS) != 0:
            raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS) for the student's own /tmp")
        # nothing mounted here may reach the machine's namespace, nor the other way round
        if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
            raise OSError(ctypes.get_errno(), "making / private in the student's mount namespace")
        options = f"size={self.size},mode=1777".encode()
        for folder in PRIVATE_TMP:
            if os.path.isdir(folder) and libc.mount(b"tmpfs", folder.encode(), b"tmpfs",
                                                    MS_NOSUID | MS_NODEV, options) != 0:
                raise OSError(ctypes.get_errno(), f"mounting the student's tmpfs on {folder}")

    def __post_init__(self):
        self._libc = _libc() if self.size else None  # loaded before the fork, not in the child


def home_image(account: str) -> Path:
    """The image file of a system account's home (an account name: one safe path component)."""
    if not re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", account):
        raise ValueError(f"{account!r} is not an account name")
    return IMAGES / f"{account}.img"


def mount_home(account: str, home: Path, uid: int, gid: int) -> str:
    """Mount the student's size-limited home (made on the first start); returns what was done, for
    the hub log. A home already mounted is left as it is."""
    if not DISK:
        return "no disk limit (LENET_HUB_DISK is empty)"
    image = home_image(account)
    if os.path.ismount(home):
        return f"home {home} already mounted"
    if not image.exists() and (home / "notebooks").exists():
        return (f"home {home} was made before disk limits and is left unlimited (mounting an empty "
                "image over it would hide the student's work)")
    IMAGES.mkdir(parents=True, exist_ok=True)
    IMAGES.chmod(0o700)
    if not image.exists():
        part = image.with_suffix(".img-making")
        with open(part, "wb") as f:
            f.truncate(DISK)  # sparse: the machine's disk holds only what the student writes
        _run("mkfs.ext4", "-q", "-F", "-m", "0", "-J", "size=4", "-E", f"root_owner={uid}:{gid}",
             "-L", account[-16:], str(part))
        part.rename(image)    # a half-made image from a crash is never mounted
    _run("mount", "-o", "loop,nosuid,nodev", str(image), str(home))
    lost = home / "lost+found"
    if lost.is_dir() and not any(lost.iterdir()):
        lost.rmdir()
    os.chown(home, uid, gid)
    home.chmod(0o700)
    return f"home {home}: its own file system of {DISK_TEXT} ({image})"


def remove_home(account: str, home: Path) -> None:
    """A removed student's home: unmounted (lazily, if a process still holds it) and its image
    deleted. For tests' throw-away students; the hub never deletes a home."""
    if os.path.ismount(home):
        subprocess.run(["umount", "--lazy", str(home)], capture_output=True)
    try:
        home_image(account).unlink()
    except FileNotFoundError:
        pass


def _run(*cmd: str) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:2])} failed: {r.stderr.strip() or r.returncode}")
