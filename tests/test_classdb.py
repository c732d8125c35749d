"""The class store: many writers at once lose nothing, a reader never sees half a share, and a
file that is not ours (or is damaged, or newer) is refused and left byte for byte as it was."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lenet_utils.classroom import store as classdb
from lenet_utils.classroom.store import ClassDB, ClassDBBusy, ClassDBError, Share

WRITERS = 24            # processes sharing at once (the issue asks for >= 20)
SHARES_EACH = 12

# A writer process. It loads classroom/store.py without the package's __init__ (no torch: 24 processes importing
# torch would take a minute on 2 cores), waits for the start signal so all write at the same moment, and uses
# a 1 ms SQLite busy timeout so that contention goes through the module's own retry and backoff.
WRITER = r"""
import io, json, os, sys, time, types
import numpy as np
from PIL import Image
package = types.ModuleType("lenet_utils"); package.__path__ = [os.path.dirname(os.path.dirname(sys.argv[1]))]
sys.modules["lenet_utils"] = package      # the package without its __init__ (which imports torch)
import lenet_utils.classroom.store as classdb
classdb.BUSY_TIMEOUT_MS = 1
path, go, proc, n = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
buf = io.BytesIO(); Image.new("L", (40, 30), 200).save(buf, "PNG")
while not __import__("os").path.exists(go):
    time.sleep(0.005)
errors = []
try:
    db = classdb.ClassDB(path)           # the first writers also create the file, all at once
    for i in range(n):
        value = (proc * 31 + i) % 251 + 1        # every pixel of this share, so a reader can check it
        share = classdb.Share(np.full((28, 28), value, np.uint8), i % 10, (i * 3) % 10, 0.5,
                              buf.getvalue(), nickname=f"p{proc}-{i}-{value}", owner=f"proc{proc}",
                              share_id=f"{proc}-{i}", source="simulated")
        db.add(share)
except Exception as err:
    errors.append(f"{type(err).__name__}: {err}")
print(json.dumps({"errors": errors}))
"""

# A reader process: reads every share again and again while the writers write; each row must be
# whole (784 pixels, all equal to the value its nickname names, a PNG original).
READER = r"""
import json, os, sys, time, types
import numpy as np
package = types.ModuleType("lenet_utils"); package.__path__ = [os.path.dirname(os.path.dirname(sys.argv[1]))]
sys.modules["lenet_utils"] = package      # the package without its __init__ (which imports torch)
import lenet_utils.classroom.store as classdb
path, go, stop = sys.argv[2], sys.argv[3], sys.argv[4]
while not os.path.exists(go):
    time.sleep(0.005)
reads, rows, bad, errors = 0, 0, [], []
while True:
    last = os.path.exists(stop)            # one more full read after the writers finished
    try:
        if os.path.exists(path):
            db = classdb.ClassDB(path)
            for s in db.shares(with_original=True):
                value = int(s.nickname.rsplit("-", 1)[1])
                if s.pixels.shape != (28, 28) or not (s.pixels == value).all() or not s.original.startswith(b"\x89PNG"):
                    bad.append(s.share_id)
                rows += 1
            reads += 1
    except Exception as err:
        errors.append(f"{type(err).__name__}: {err}")
    if last:
        break
print(json.dumps({"reads": reads, "rows": rows, "bad": bad, "errors": errors}))
"""


def png(w: int = 20, h: int = 20) -> bytes:
    buf = io.BytesIO()
    Image.new("L", (w, h), 255).save(buf, "PNG")
    return buf.getvalue()


def share(**kw) -> Share:
    args = dict(pixels=np.zeros((28, 28), np.uint8), true_label=7, predicted=1, confidence=0.8, original=png(),
                owner="ann", nickname="Ann")
    args.update(kw)
    return Share(**args)


def test_twenty_four_processes_share_at_once_and_every_share_is_stored_exactly_once(tmp_path):
    path, go, stop = tmp_path / "class.sqlite", tmp_path / "go", tmp_path / "stop"
    module = classdb.__file__
    env = dict(os.environ, PYTHONPATH="")
    reader = subprocess.Popen([sys.executable, "-c", READER, module, str(path), str(go), str(stop)],
                              stdout=subprocess.PIPE, text=True, env=env)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, module, str(path), str(go), str(p), str(SHARES_EACH)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
               for p in range(WRITERS)]
    time.sleep(1.0)                       # let every process start and wait at the line
    go.touch()
    results = []
    for w in writers:
        out, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
        results.append(json.loads(out))
    stop.touch()
    read = json.loads(reader.communicate(timeout=60)[0])

    errors = [e for r in results for e in r["errors"]]
    assert errors == [], errors            # in particular no "database is locked"
    stored = ClassDB(path).shares()
    ids = [s.share_id for s in stored]
    expected = {f"{p}-{i}" for p in range(WRITERS) for i in range(SHARES_EACH)}
    assert len(ids) == WRITERS * SHARES_EACH == len(set(ids))
    assert set(ids) == expected
    assert read["errors"] == [] and read["bad"] == []
    assert read["reads"] >= 2 and read["rows"] >= WRITERS * SHARES_EACH   # it did read during and after
    print(f"\n{WRITERS} writers x {SHARES_EACH} shares: {len(ids)} stored, {len(set(ids))} distinct; "
          f"reader: {read['reads']} full reads, {read['rows']} rows, 0 torn")


def test_a_writer_waits_out_a_held_lock_and_gives_up_with_a_clear_message(tmp_path):
    db = ClassDB(tmp_path / "c.sqlite")
    holder = sqlite3.connect(db.path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(1.0, lambda: holder.execute("COMMIT"))
    release.start()
    t0 = time.monotonic()
    db.add(share())                                  # waits about a second, then gets through
    assert time.monotonic() - t0 >= 0.8 and len(db) == 1
    release.join()

    impatient = ClassDB(db.path, retry_seconds=0.3)
    holder.execute("BEGIN EXCLUSIVE")
    with pytest.raises(ClassDBBusy, match="stayed busy") as info:
        impatient.add(share())
    assert "database is locked" not in str(info.value)
    holder.execute("COMMIT")
    holder.close()
    assert len(db) == 1


def test_the_same_share_sent_twice_is_stored_once_and_only_its_owner_deletes_it(tmp_path):
    db = ClassDB(tmp_path / "c.sqlite")
    s = share()
    first, again = db.add(s), db.add(s)
    assert first == again and len(db) == 1
    assert db.shares()[0].nickname == "Ann" and db.shares()[0].original == b""  # originals on request
    assert db.original(first) == png()
    assert not db.delete(first, owner="bob")
    assert db.delete(first, owner="ann") and len(db) == 0


@pytest.mark.parametrize("bad, message", [
    (dict(pixels=np.zeros((28, 27), np.uint8)), "28x28 uint8"),
    (dict(pixels=np.zeros((28, 28), np.float32)), "28x28 uint8"),
    (dict(true_label=10), "digit 0-9"),
    (dict(predicted=-1), "digit 0-9"),
    (dict(confidence=1.5), "between 0 and 1"),
    (dict(original=b"GIF89a..."), "PNG"),
    (dict(original=b"\x89PNG" + bytes(classdb.ORIGINAL_MAX_BYTES)), "at most"),
])
def test_a_malformed_share_is_refused_before_it_reaches_the_file(tmp_path, bad, message):
    db = ClassDB(tmp_path / "c.sqlite")
    with pytest.raises(ValueError, match=message):
        db.add(share(**bad))
    assert len(db) == 0


def test_nicknames_are_printable_and_short(tmp_path):
    db = ClassDB(tmp_path / "c.sqlite")
    db.add(share(nickname="  a\x00b\n\tc " + "x" * 100))
    assert db.shares()[0].nickname == ("ab c " + "x" * 100)[:classdb.NICKNAME_MAX]   # \n and \t are spaces


def _unchanged_after_refusal(path: Path, match: str) -> None:
    before = path.read_bytes()
    with pytest.raises(ClassDBError, match=match) as info:
        ClassDB(path)
    assert "left untouched" in str(info.value) or "unchanged" in str(info.value)
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()


def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"my lecture notes, not a database\n" * 50)
    _unchanged_after_refusal(path, "not an SQLite database")


def test_another_programs_database_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "grades.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE grades (student TEXT, mark REAL)")
    con.execute("INSERT INTO grades VALUES ('ann', 1.3)")
    con.commit()
    con.close()
    _unchanged_after_refusal(path, "another program")


def test_a_damaged_class_database_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "c.sqlite"
    db = ClassDB(path)
    for i in range(40):
        db.add(share(original=png(200, 150), nickname=f"s{i}"))
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")   # everything into the main file
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    data = bytearray(path.read_bytes())
    page = 4096
    data[2 * page:4 * page] = np.random.default_rng(0).integers(0, 256, 2 * page, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))
    _unchanged_after_refusal(path, "not a usable class database")


def test_a_file_from_a_newer_version_is_refused_not_reset(tmp_path):
    path = tmp_path / "c.sqlite"
    ClassDB(path).add(share())
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(ClassDBError, match="newer lenet_utils"):
        ClassDB(path)
    con = sqlite3.connect(path)
    assert con.execute("SELECT count(*) FROM shares").fetchone()[0] == 1
    con.close()


def test_an_old_schema_is_migrated_and_keeps_its_shares(tmp_path):
    path = tmp_path / "c.sqlite"
    con = sqlite3.connect(path, isolation_level=None)   # a file as version 1 of the module made it
    con.execute(f"PRAGMA application_id = {classdb.APPLICATION_ID}")
    con.execute(classdb.MIGRATIONS[0][1])
    con.execute("PRAGMA user_version = 1")
    con.execute("INSERT INTO shares (share_id, created, owner, true_label, predicted, confidence, pixels, "
                "original, source) VALUES ('old', 1.0, 'ann', 4, 9, 0.6, ?, ?, 'upload')",
                (bytes(784), png()))
    con.close()
    db = ClassDB(path)
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == classdb.SCHEMA_VERSION == 2
    (old,) = db.shares()
    assert (old.share_id, old.true_label, old.predicted, old.probabilities, old.model) == ("old", 4, 9, [], "shipped")
    db.add(share(probabilities=[0.1] * 10))
    assert db.shares()[1].probabilities == [0.1] * 10


def test_the_path_comes_from_LENET_CLASS_DB_file_or_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("LENET_CLASS_DB", str(tmp_path / "room" / "db.sqlite"))
    assert classdb.default_path() == tmp_path / "room" / "db.sqlite"
    (tmp_path / "shared").mkdir()
    monkeypatch.setenv("LENET_CLASS_DB", str(tmp_path / "shared"))
    assert classdb.default_path() == tmp_path / "shared" / "class.sqlite"
    monkeypatch.delenv("LENET_CLASS_DB")
    monkeypatch.setenv("LENET_DATA_DIR", str(tmp_path / "data"))
    assert classdb.default_path() == tmp_path / "data" / "class" / "class.sqlite"
