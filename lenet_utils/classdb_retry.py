"""Waiting out the class database's write lock (notebook 07: a class shares into one SQLite file).

SQLite lets one writer in at a time. A writer that finds the lock taken waits and tries again,
10 ms, 20 ms, ... up to 0.5 s, each wait jittered so twenty waiting writers do not all wake at
once; "database is locked" never reaches a student. Every failure is a :class:`ClassDBError`
naming the file.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

RETRY_SECONDS = 30.0             # give up (with a clear message) after this long
T = TypeVar("T")


class ClassDBError(RuntimeError):
    """The class database cannot be used; the message says which file and why."""


class ClassDBBusy(ClassDBError):
    """Still locked by other writers after ``RETRY_SECONDS`` of trying."""


def _is_busy(err: sqlite3.OperationalError) -> bool:
    text = str(err).lower()
    return "locked" in text or "busy" in text


def retry(action: Callable[[], T], what: str, path: Path, seconds: float = RETRY_SECONDS) -> T:
    """Run ``action`` until it gets through SQLite's lock: waits 10 ms, 20 ms, ... up to 0.5 s,
    each with random jitter so twenty waiting writers do not all wake at once."""
    deadline = time.monotonic() + seconds
    delay = 0.01
    while True:
        try:
            return action()
        except sqlite3.OperationalError as err:
            if not _is_busy(err):
                raise ClassDBError(f"{path}: could not {what}: {err}") from None
            if time.monotonic() + delay > deadline:
                raise ClassDBBusy(f"{path}: the class database stayed busy for {seconds:g} s; "
                                  f"could not {what}. Try again in a moment.") from None
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 0.5)
