"""The class's shared-digit database (notebook 07, ``LENET_CLASS_DB``) on a hub with accounts.

Every student's kernel writes shares into one SQLite file, so students must be able to write it;
what they must not do is delete or replace the file, or its WAL, for the whole class. So:

  folder  root:<group>  mode 3770  (group may create files; sticky: only a file's owner may delete
                                    or rename it; setgid: new files belong to the group)
  class.sqlite, -wal, -shm   root:<group>  mode 0660, made by the hub before any student starts

The group is ``<prefix>classdb`` with the prefix's last '-' turned into '_' (``jupyter_classdb``):
no student account can have that name (theirs are ``jupyter-<name>``). Each student's account joins
it when their server first starts. Root owns all three files, so the sticky folder refuses every
student's ``rm``/``mv`` (EPERM); SQLite, which deletes the WAL when its last connection closes,
simply keeps it (tested).

What modes cannot give: a student who opens the file with ``sqlite3`` directly can change rows,
including other students' shares. The package's API (``ClassDB.delete(id, owner)``) only deletes
one's own, but the file itself cannot tell the package from raw SQL. hub/README.md says so.

Without root (shared-account mode) the folder is ``<state>/class`` as before.
"""

from __future__ import annotations

import grp
import hashlib
import os
import subprocess
from pathlib import Path

FILES = ("class.sqlite", "class.sqlite-wal", "class.sqlite-shm")


def group_name(prefix: str | None = None) -> str:
    prefix = os.environ.get("LENET_HUB_ACCOUNT_PREFIX", "jupyter-") if prefix is None else prefix
    return prefix.rstrip("-") + "_classdb"


def folder(state: Path, mode: str) -> Path:
    """The class DB's folder, made ready for ``mode`` ("accounts" or "shared-account")."""
    if mode != "accounts":
        path = state / "class"
        path.mkdir(parents=True, exist_ok=True)
        return path
    hub_id = hashlib.sha1(str(state).encode()).hexdigest()[:10]
    path = Path(os.environ.get("LENET_HUB_CLASS_DIR", f"/var/lib/lenet-hub/class-{hub_id}"))
    group = group_name()
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        subprocess.run(["groupadd", "--force", group], check=True, capture_output=True)
        gid = grp.getgrnam(group).gr_gid
    for missing in reversed([p for p in path.parents if not p.exists()]):
        missing.mkdir()
        missing.chmod(0o755)  # made by us (the hub's umask is 077): enterable, as /var/lib is
    path.mkdir(exist_ok=True)
    os.chown(path, 0, gid)
    path.chmod(0o3770)
    parent = path.parent
    while parent != parent.parent:  # students must reach it: never loosen a folder, say which one
        if not parent.stat().st_mode & 0o001:
            raise SystemExit(f"error: the class DB folder {path} is below {parent}, which students cannot "
                             "enter (no x for others): set LENET_HUB_CLASS_DIR to a folder outside it")
        parent = parent.parent
    db = path / FILES[0]
    if not db.exists():
        from lenet_utils.classroom.store import ClassDB

        len(ClassDB(db))  # creates it, with the package's schema and WAL mode
    for name in FILES:
        f = path / name
        if not f.exists():
            f.touch()
        os.chown(f, 0, gid, follow_symlinks=False)
        f.chmod(0o660)
    return path


def admit(path: Path, account: str) -> None:
    """Add a student's account to the class DB's group (once; servers started later carry it)."""
    group = grp.getgrgid(path.stat().st_gid).gr_name
    if account not in grp.getgrnam(group).gr_mem:
        subprocess.run(["usermod", "--append", "--groups", group, account], check=True, capture_output=True)
