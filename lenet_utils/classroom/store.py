"""The class's shared digits (notebook 07): one SQLite file that the class's shares go into.

    db = ClassDB()          # $LENET_CLASS_DB, else data/class/class.sqlite
    db.add(Share(...))      # one digit a student chose to share;  db.shares(): all, oldest first

On one machine every panel opens the file; on a hub only the gallery service does, and students
reach it over HTTP (:mod:`.service`, same calls). Why SQLite: one file, no database server, and
transactions, so a share is wholly there or not at all. WAL mode lets the dashboard read while
students write. Writers take turns for the write lock; one that finds it taken waits and tries
again (:func:`retry`), so "database is locked" never reaches a student. The folder must be
on the machine's own disk: SQLite's locks do not work over NFS.

The file is ours only if it says so (``PRAGMA application_id``). A file that is not SQLite, is
damaged, or belongs to another program is refused with a message and never written to; an older
schema is migrated step by step; a newer one is refused, never reset.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np

from ..mnist_files import SIDE  # a share's pixels are the network's 28 x 28 input

__all__ = ["ClassDB", "ClassDBBusy", "ClassDBError", "Share", "check_share", "clean_nickname", "default_path"]

APPLICATION_ID = 0x4C654E35      # "LeN5": marks the file as this course's class store
BUSY_TIMEOUT_MS = 100            # SQLite's own short wait; longer waits are our backoff below
NICKNAME_MAX = 40
ORIGINAL_MAX_BYTES = 200_000     # the size-capped original (a PNG, longer side <= 256 px)

# --- waiting out the write lock ------------------------------------------------------------------
# SQLite lets one writer in at a time. A writer that finds the lock taken waits and tries again,
# 10 ms, 20 ms, ... up to 0.5 s, each wait jittered so twenty waiting writers do not all wake at
# once; "database is locked" never reaches a student. Every failure is a ClassDBError naming the file.
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


# --- the schema ----------------------------------------------------------------------------------
# Each migration takes the schema from version i to i + 1. Never edit one that has shipped:
# add a new one at the end, so every older file can be brought up to date.
MIGRATIONS: list[tuple[str, str]] = [
    ("the shares table", """
        CREATE TABLE shares (
            id          INTEGER PRIMARY KEY,
            share_id    TEXT NOT NULL UNIQUE,      -- made by the sender: a retried write stays one row
            created     REAL NOT NULL,             -- Unix time, seconds
            nickname    TEXT NOT NULL DEFAULT '',
            owner       TEXT NOT NULL,             -- who may delete it (a user name or a visit's key)
            true_label  INTEGER NOT NULL CHECK (true_label BETWEEN 0 AND 9),
            predicted   INTEGER NOT NULL CHECK (predicted BETWEEN 0 AND 9),
            confidence  REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
            pixels      BLOB NOT NULL CHECK (length(pixels) = 784),   -- 28x28 uint8, light ink on black
            original    BLOB NOT NULL,             -- PNG, longer side <= 256 px
            source      TEXT NOT NULL              -- upload | example | drawing | simulated
        );"""),
    ("the ten probabilities and the model's name; an index for the dashboard's 'newest first'", """
        ALTER TABLE shares ADD COLUMN probabilities TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE shares ADD COLUMN model TEXT NOT NULL DEFAULT 'shipped';
        CREATE INDEX shares_created ON shares (created);"""),
]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass
class Share:
    """One shared digit. ``pixels`` is the network's 28x28 input (uint8, ink 255)."""

    pixels: np.ndarray
    true_label: int
    predicted: int
    confidence: float
    original: bytes
    nickname: str = ""
    owner: str = ""
    source: str = "upload"
    probabilities: list[float] = field(default_factory=list)
    model: str = "shipped"
    created: float = 0.0                                  # set by add() when 0
    share_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    id: int | None = None                                 # the row's number, once stored


def default_path() -> Path:
    """``$LENET_CLASS_DB`` (a file, or a folder to hold ``class.sqlite``), else ``data/class/class.sqlite``."""
    env = os.environ.get("LENET_CLASS_DB", "").strip()
    if env:
        path = Path(env).expanduser()
        return path / "class.sqlite" if path.is_dir() or env.endswith(("/", os.sep)) else path
    from ..paths import data_root

    return data_root() / "class" / "class.sqlite"


class ClassDB:
    """The store at ``path`` (default: :func:`default_path`). Opening checks and, if needed,
    creates or migrates the file; every later call opens a short-lived connection."""

    def __init__(self, path: str | Path | None = None, *, retry_seconds: float = RETRY_SECONDS):
        self.path = Path(path).expanduser() if path is not None else default_path()
        self.retry_seconds = retry_seconds
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._check_and_migrate()

    # --- opening -----------------------------------------------------------------------------
    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode (we begin transactions ourselves), closed afterwards."""
        try:
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.Error as err:
            raise ClassDBError(f"{self.path}: cannot open the class database: {err}") from None
        try:
            yield con
        finally:
            con.close()

    def _check_and_migrate(self) -> None:
        self._refuse_foreign_bytes()
        with self.connect() as con:
            def begin_and_migrate():
                con.execute("BEGIN IMMEDIATE")     # one process creates or migrates; the rest wait
                try:
                    self._migrate(con)
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
            try:
                # Look before writing anything: WAL mode would change a foreign file.
                retry(lambda: self._inspect_snapshot(con), "read the class database", self.path, self.retry_seconds)
                mode = retry(lambda: con.execute("PRAGMA journal_mode=WAL").fetchone()[0],
                             "switch to WAL mode", self.path, self.retry_seconds)
                if str(mode).lower() != "wal":
                    raise ClassDBError(f"{self.path}: SQLite refused WAL mode (got {mode!r}); "
                                       "is the folder on a network file system?")
                retry(begin_and_migrate, "set up the class database", self.path, self.retry_seconds)
            except sqlite3.DatabaseError as err:   # "file is not a database", "malformed", ...
                raise ClassDBError(f"{self.path}: not a usable class database ({err}). It was left "
                                   "untouched; point LENET_CLASS_DB at another file.") from None

    def _refuse_foreign_bytes(self) -> None:
        """A non-empty file that does not start like SQLite is refused before SQLite touches it."""
        try:
            with open(self.path, "rb") as f:
                head = f.read(16)
        except FileNotFoundError:
            return
        except OSError as err:
            raise ClassDBError(f"{self.path}: cannot read the class database: {err}") from None
        if head and head != b"SQLite format 3\x00":
            raise ClassDBError(f"{self.path}: this file is not an SQLite database, so it is not a class "
                               "database. It was left untouched; point LENET_CLASS_DB at another file.")

    def _inspect_snapshot(self, con: sqlite3.Connection) -> int:
        """:meth:`_inspect` inside one read transaction: its three questions see the same moment,
        never a file another process is creating between them."""
        con.execute("BEGIN")
        try:
            return self._inspect(con)
        finally:
            con.execute("COMMIT")

    def _inspect(self, con: sqlite3.Connection) -> int:
        """The file's schema version; raises for a foreign, newer or damaged file. Writes nothing."""
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        version = con.execute("PRAGMA user_version").fetchone()[0]
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        if app_id != APPLICATION_ID and not (app_id == 0 and version == 0 and not tables):
            raise ClassDBError(f"{self.path}: an SQLite database of another program (tables: "
                               f"{', '.join(tables) or 'none'}), not a class database. It was left "
                               "untouched; point LENET_CLASS_DB at another file.")
        if version > SCHEMA_VERSION:
            raise ClassDBError(f"{self.path}: made by a newer lenet_utils (schema {version}, this one "
                               f"knows up to {SCHEMA_VERSION}); update the package, the file is unchanged.")
        if tables:
            bad = con.execute("PRAGMA quick_check").fetchone()[0]
            if bad != "ok":
                raise sqlite3.DatabaseError(f"damaged: {bad}")
        return version

    def _migrate(self, con: sqlite3.Connection) -> None:
        """Inside a write transaction: bring the schema up to ``SCHEMA_VERSION``, one step at a time."""
        version = self._inspect(con)                          # again: another process may have migrated
        if version == 0:
            con.execute(f"PRAGMA application_id = {APPLICATION_ID}")    # a new, empty file: ours now
        for step in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[step][1].split(";"):  # executescript would commit early
                if statement.strip():
                    con.execute(statement)
            con.execute(f"PRAGMA user_version = {step + 1}")

    # --- writing -----------------------------------------------------------------------------
    def add(self, share: Share) -> int:
        """Store ``share`` once (a retry after a lost reply does not duplicate it). Returns its id."""
        row = _row(share)

        def insert():
            with self.connect() as con:
                con.execute("BEGIN IMMEDIATE")
                try:
                    con.execute(f"INSERT OR IGNORE INTO shares ({', '.join(row)}) "
                                f"VALUES ({', '.join('?' * len(row))})", list(row.values()))
                    found = con.execute("SELECT id FROM shares WHERE share_id = ?", (share.share_id,)).fetchone()
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                return found[0]

        share.id = retry(insert, "store the share", self.path, self.retry_seconds)
        return share.id

    def delete(self, share_id: int, owner: str) -> bool:
        """Delete share ``share_id`` if ``owner`` shared it. True when a row went."""
        def run():
            with self.connect() as con:
                return con.execute("DELETE FROM shares WHERE id = ? AND owner = ?", (share_id, owner)).rowcount
        return bool(retry(run, "delete the share", self.path, self.retry_seconds))

    # --- reading -----------------------------------------------------------------------------
    def shares(self, *, owner: str | None = None, since_id: int = 0, with_original: bool = False) -> list[Share]:
        """Every share (or ``owner``'s), oldest first; ``since_id`` keeps those with a larger id."""
        cols = [c for c in _COLUMNS if with_original or c != "original"]
        sql = f"SELECT {', '.join(cols)} FROM shares WHERE id > ?"
        args: list = [since_id]
        if owner is not None:
            sql += " AND owner = ?"
            args.append(owner)

        def read():
            with self.connect() as con:
                return con.execute(sql + " ORDER BY id", args).fetchall()
        return [_share(dict(zip(cols, r))) for r in retry(read, "read the shares", self.path, self.retry_seconds)]

    def original(self, share_id: int) -> bytes | None:
        """The size-capped original picture of one share (PNG bytes)."""
        def read():
            with self.connect() as con:
                return con.execute("SELECT original FROM shares WHERE id = ?", (share_id,)).fetchone()
        row = retry(read, "read the picture", self.path, self.retry_seconds)
        return row[0] if row else None

    def owner_of(self, share_id: int) -> str | None:
        """Who shared share ``share_id`` (None: no such share). The gallery service's 403 vs 404."""
        def read():
            with self.connect() as con:
                return con.execute("SELECT owner FROM shares WHERE id = ?", (share_id,)).fetchone()
        row = retry(read, "read the share's owner", self.path, self.retry_seconds)
        return row[0] if row else None

    def stamp(self) -> tuple[int, int]:
        """(count, largest id): changes whenever a share is added or deleted (cheap, for polling)."""
        def read():
            with self.connect() as con:
                return tuple(con.execute("SELECT count(*), coalesce(max(id), 0) FROM shares").fetchone())
        return retry(read, "count the shares", self.path, self.retry_seconds)

    def __len__(self) -> int:
        return self.stamp()[0]


_COLUMNS = ["id", "share_id", "created", "nickname", "owner", "true_label", "predicted", "confidence",
            "pixels", "original", "source", "probabilities", "model"]


def clean_nickname(text: str) -> str:
    """Printable characters only, spaces collapsed, at most ``NICKNAME_MAX`` long."""
    kept = "".join(c if c.isprintable() else " " if c.isspace() else "" for c in str(text))  # tabs, newlines: spaces
    return " ".join(kept.split())[:NICKNAME_MAX]


def check_share(s: Share) -> None:
    """ValueError (one line) when ``s`` could not be stored: the checks :meth:`ClassDB.add` makes."""
    _row(s)


def _row(s: Share) -> dict:
    pixels = np.asarray(s.pixels)
    if pixels.shape != (SIDE, SIDE) or pixels.dtype != np.uint8:
        raise ValueError(f"a share's pixels must be 28x28 uint8, not {pixels.shape} {pixels.dtype}")
    for name, value in (("true label", s.true_label), ("predicted label", s.predicted)):
        if not isinstance(value, (int, np.integer)) or not 0 <= int(value) <= 9:
            raise ValueError(f"the {name} must be a digit 0-9, not {value!r}")
    if not 0.0 <= float(s.confidence) <= 1.0:
        raise ValueError(f"confidence must be between 0 and 1, not {s.confidence!r}")
    if not isinstance(s.original, bytes) or not s.original.startswith(b"\x89PNG"):
        raise ValueError("the original must be PNG bytes (see shares.capped_original)")
    if len(s.original) > ORIGINAL_MAX_BYTES:
        raise ValueError(f"the original is {len(s.original):,} bytes; at most {ORIGINAL_MAX_BYTES:,}")
    return {"share_id": s.share_id, "created": s.created or time.time(), "nickname": clean_nickname(s.nickname),
            "owner": s.owner, "true_label": int(s.true_label), "predicted": int(s.predicted),
            "confidence": float(s.confidence), "pixels": pixels.tobytes(), "original": s.original,
            "source": s.source, "probabilities": json.dumps([round(float(p), 6) for p in s.probabilities]),
            "model": s.model}


def _share(r: dict) -> Share:
    return Share(pixels=np.frombuffer(r["pixels"], np.uint8).reshape(SIDE, SIDE), true_label=r["true_label"],
                 predicted=r["predicted"], confidence=r["confidence"], original=r.get("original", b""),
                 nickname=r["nickname"], owner=r["owner"], source=r["source"],
                 probabilities=json.loads(r["probabilities"]), model=r["model"], created=r["created"],
                 share_id=r["share_id"], id=r["id"])
