"""The class gallery on the hub: one service owns the class's SQLite file; students only ask it.

    student's kernel ──HTTP + own token──▶ gallery service (hub/gallery_service.py) ──▶ class.sqlite
    the app          ──HTTP + a token───▶   (asks the hub whose token it is)          (its folder: 0700)

With root (one account per student) the service runs as its own system account, ``lenet-gallery``
(``$LENET_HUB_GALLERY_ACCOUNT``; made here with ``useradd --system`` the first time, no home, no
login shell), and the file lives in ``/var/lib/lenet-hub/class-<id>/`` (``$LENET_HUB_CLASS_DIR``),
owned by that account, mode 0700, files 0600. No student can open, read, replace or delete the file:
they share, list and delete their own shares over HTTP, and the service stores the name the hub gives
their token as the owner. Why an account of its own rather than root: the service parses what
students send; if it were ever tricked, it would hold one folder, not the machine.

The service runs the root-owned runtime's Python and its copy of ``lenet_utils`` (hub/runtime.py), so
a student cannot change its code either. Without root (shared-account mode) it runs as the hub's own
user, the file in ``<state>/class/`` (the state folder is the hub's, 0700); students there share the
hub's account anyway (a trusted group: launch.py says so).

A hub that used the earlier design (the file group-writable by ``jupyter_classdb``, folder 3770) is
taken over at the next start: the folder and files are given to the service account, group and
sticky bits removed; the rows are kept.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import socket
import subprocess
from pathlib import Path

FILES = ("class.sqlite", "class.sqlite-wal", "class.sqlite-shm")
PID_FILE = "gallery.pid"                       # written by the service, read by the next hub (stop_orphan)
NAME = "gallery"                               # the service's name: /services/gallery/
SCOPE = f"access:services!service={NAME}"       # what a token needs to use it


def account() -> str:
    return os.environ.get("LENET_HUB_GALLERY_ACCOUNT", "lenet-gallery")


def ensure_account(name: str) -> pwd.struct_passwd:
    """The service's system account (made once: no home, no login, its own group)."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        r = subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                            "--shell", "/usr/sbin/nologin", "--user-group", "--comment",
                            "LeNet class hub, the class gallery service", name], capture_output=True, text=True)
        if r.returncode and "already exists" not in r.stderr:
            raise SystemExit(f"error: could not create the gallery service's account {name}: "
                             f"{r.stderr.strip()}") from None
        return pwd.getpwnam(name)


def folder(state: Path, mode: str) -> Path:
    """The class DB's folder, made ready for ``mode`` ("accounts" or "shared-account"); the file in
    it created (or migrated) with the package's schema, owned by the service's account."""
    if mode != "accounts":
        path = state / "class"
        path.mkdir(parents=True, exist_ok=True)
        stop_orphan(path)
        _create(path)
        return path
    hub_id = hashlib.sha1(str(state).encode()).hexdigest()[:10]
    path = Path(os.environ.get("LENET_HUB_CLASS_DIR", f"/var/lib/lenet-hub/class-{hub_id}"))
    entry = ensure_account(account())
    for missing in reversed([p for p in path.parents if not p.exists()]):
        missing.mkdir()
        missing.chmod(0o755)  # made by us (the hub's umask is 077): enterable, as /var/lib is
    path.mkdir(exist_ok=True)
    stop_orphan(path)
    _create(path)             # as root, before the service starts: a broken file stops the hub with its reason
    os.chown(path, entry.pw_uid, entry.pw_gid)
    path.chmod(0o700)         # the service's alone: no student can enter, read or replace anything here
    for f in path.iterdir():
        if f.is_symlink():
            f.unlink()        # never follow a link planted in the old (group-writable) folder
            continue
        os.chown(f, entry.pw_uid, entry.pw_gid)
        f.chmod(0o600)
    parent = path.parent
    while parent != parent.parent:  # the service's account must reach it
        if not parent.stat().st_mode & 0o001:
            raise SystemExit(f"error: the class DB folder {path} is below {parent}, which the gallery service's "
                             "account cannot enter (no x for others): set LENET_HUB_CLASS_DIR to a folder outside it")
        parent = parent.parent
    return path


def stop_orphan(path: Path, timeout: float = 10.0) -> int | None:
    """A gallery service left running by a hub that was killed (not stopped: a stopped hub stops its
    services) still holds the port and the file: stop it, so the new hub's service takes over.
    Only the process named in ``gallery.pid`` and running gallery_service.py on this folder's file."""
    import signal
    import time

    try:
        pid = int((path / PID_FILE).read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    if not any(c.endswith(b"gallery_service.py") for c in cmdline) or str(path / FILES[0]).encode() not in cmdline:
        return None   # another process has that number now
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    if Path(f"/proc/{pid}").exists():
        os.kill(pid, signal.SIGKILL)
    return pid


def _create(path: Path) -> None:
    from lenet_utils.classroom.store import ClassDB

    len(ClassDB(path / FILES[0]))  # creates or migrates it (the package's schema, WAL mode)


def port(state: Path) -> int:
    """The service's loopback port: chosen free at the first start, kept in the state folder, so
    students' kernels started before a hub restart still find it."""
    saved = state / "gallery_port"
    try:
        return int(saved.read_text())
    except (OSError, ValueError):
        pass
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        chosen = s.getsockname()[1]
    saved.write_text(str(chosen))
    saved.chmod(0o600)
    return chosen


def service(state: Path, mode: str, runtime: Path, python: str, here: Path) -> dict:
    """The ``c.JupyterHub.services`` entry that runs the gallery beside the hub."""
    path = folder(state, mode)
    url = f"http://127.0.0.1:{port(state)}"
    if mode == "accounts":  # the runtime's root-owned Python and package, as the service's own account
        return {"name": NAME, "url": url, "user": account(), "cwd": str(path),
                "command": [str(runtime / "venv" / "bin" / "python"), str(runtime / "gallery_service.py"),
                            "--db", str(path / FILES[0])],
                "environment": {"PYTHONDONTWRITEBYTECODE": "1"}}
    return {"name": NAME, "url": url, "cwd": str(path),
            "command": [python, str(here / "gallery_service.py"), "--db", str(path / FILES[0])],
            "environment": {"PYTHONPATH": str(here.parent)}}


def roles() -> list[dict]:
    """Every user may use the gallery (the ``user`` role), and their server's token may too (the
    ``server`` role: JupyterHub's default scopes plus the gallery's)."""
    return [{"name": "user", "scopes": ["self", SCOPE]},
            {"name": "server", "scopes": ["users:activity!user", "access:servers!server", SCOPE]}]
