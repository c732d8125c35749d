"""Students' names and their system accounts on the class hub (hub/README.md: 'Accounts').

One rule for every name, applied by every authenticator after the name is lower-cased and before
anything (an admin check, a route, a folder, an account, a cgroup) is made from it::

    ^[a-z][a-z0-9_-]{0,23}$      a lower-case letter first, then letters, digits, '_' or '-'; 24 at most

Names that do not match are refused at sign-up and at login ("Invalid username"), never mapped to
something else: a mapping would let two people share an account. 24 characters keep the account
name (``jupyter-<name>``, 32 at most, as ``useradd`` allows) one safe path component.

On a hub running as root each student gets a system account ``<prefix><name>`` (``jupyter-`` by
default, as The Littlest JupyterHub does) with its own home ``/home/<account>`` (mode 0700), made
the first time their server starts. The account has no password (no login but through the hub) and
``/usr/sbin/nologin`` as its shell.
"""

from __future__ import annotations

import os
import pwd
import re
import subprocess
from pathlib import Path

NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,23}$"
_NAME = re.compile(NAME_PATTERN)
PREFIX = os.environ.get("LENET_HUB_ACCOUNT_PREFIX", "jupyter-")
HOMES = Path(os.environ.get("LENET_HUB_HOMES", "/home"))


class UnsafeName(ValueError):
    pass


def check_name(name: str) -> str:
    """``name`` when it is a safe student name (see the module's docstring); UnsafeName otherwise."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise UnsafeName(f"{name!r} is not a valid student name: use a lower-case letter, then letters, "
                         "digits, '_' or '-' (24 characters at most)")
    return name


def account_name(name: str, prefix: str = PREFIX) -> str:
    return prefix + check_name(name)


def ensure_account(name: str, *, prefix: str = PREFIX, homes: Path = HOMES) -> pwd.struct_passwd:
    """The student's system account, made now if it does not exist yet; its home is mode 0700."""
    account = account_name(name, prefix)
    if not _exists(account):
        home = homes / account
        r = subprocess.run(["useradd", "--create-home", "--home-dir", str(home), "--shell", "/usr/sbin/nologin",
                            "--user-group", "--comment", f"class hub student {name}", account],
                           capture_output=True, text=True)
        if r.returncode not in (0, 9):  # 9: made meanwhile by a concurrent start
            raise RuntimeError(f"could not create the account {account}: {r.stderr.strip()}")
    entry = pwd.getpwnam(account)
    home = Path(entry.pw_dir)
    home.mkdir(mode=0o700, exist_ok=True)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    home.chmod(0o700)
    return entry


def _exists(account: str) -> bool:
    try:
        pwd.getpwnam(account)
        return True
    except KeyError:
        return False


def remove_account(account: str) -> None:
    """Delete a system account and its home (tests' throw-away students; never called by the hub)."""
    subprocess.run(["userdel", "--remove", account], capture_output=True)


def chown_tree(path: Path, uid: int, gid: int) -> None:
    """Give ``path`` and everything below it to the student (never following symlinks: the link to
    the shared MNIST is the student's, what it points to stays root's)."""
    os.chown(path, uid, gid, follow_symlinks=False)
    if path.is_symlink():
        return
    for dirpath, dirnames, filenames in os.walk(path):
        for n in dirnames + filenames:
            os.chown(os.path.join(dirpath, n), uid, gid, follow_symlinks=False)
