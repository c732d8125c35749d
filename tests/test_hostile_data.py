"""Issue 16, the data folder: bombs, wrong kinds of path, a fooled "verified" record."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import struct

import pytest

from lenet_utils import mnist_files as F
from lenet_utils.data import MNISTUnavailable, prepare_mnist


def _leftovers(raw):
    return [p.name for p in raw.iterdir() if p.name.endswith(".part")] if raw.is_dir() else []


def test_a_gzip_bomb_under_a_real_name_is_refused_before_writing_it(tmp_path, fake_mnist):
    source, checksums, _ = fake_mnist
    name = "t10k-labels-idx1-ubyte"
    (source / name).unlink()
    with gzip.open(source / f"{name}.gz", "wb", compresslevel=9) as f:   # header says 10,000 labels,
        f.write(struct.pack(">II", 0x801, 10_000))                        # then 64 MiB of zeros follow
        for _ in range(64):
            f.write(bytes(1 << 20))
    assert (source / f"{name}.gz").stat().st_size < 200_000
    raw = tmp_path / "root" / "MNIST" / "raw"
    with pytest.raises(MNISTUnavailable) as info:
        prepare_mnist(tmp_path / "root", source=source, checksums=checksums)
    assert f"{name}.gz holds more data than its IDX header declares" in str(info.value)
    assert not (raw / name).exists() and _leftovers(raw) == []
    assert sum(p.stat().st_size for p in raw.iterdir()) < 1_000_000


def test_a_header_claiming_more_than_the_real_file_is_refused(tmp_path, fake_mnist):
    source, checksums, _ = fake_mnist
    name = "t10k-labels-idx1-ubyte"
    (source / name).write_bytes(struct.pack(">II", 0x801, 10**9))
    with pytest.raises(MNISTUnavailable, match=r"declares 1,000,000,008 bytes, more than t10k-labels-idx1-ubyte "
                                               r"can be \(10,008\).*decompression bomb"):
        prepare_mnist(tmp_path / "root", source=source, checksums=checksums)


def test_not_an_idx_file_is_named(tmp_path, fake_mnist):
    source, checksums, _ = fake_mnist
    (source / "t10k-labels-idx1-ubyte").write_bytes(b"<html>not found</html>")
    with pytest.raises(MNISTUnavailable, match="t10k-labels-idx1-ubyte is not an IDX file"):
        prepare_mnist(tmp_path / "root", source=source, checksums=checksums)


def test_a_wrong_file_never_takes_the_real_name(tmp_path, fake_mnist):
    source, checksums, _ = fake_mnist
    data = bytearray((source / "t10k-images-idx3-ubyte").read_bytes())
    data[-1] ^= 0xFF
    (source / "t10k-images-idx3-ubyte").write_bytes(bytes(data))
    raw = tmp_path / "root" / "MNIST" / "raw"
    with pytest.raises(MNISTUnavailable, match="is corrupt: MD5"):
        prepare_mnist(tmp_path / "root", source=source, checksums=checksums)
    assert not (raw / "t10k-images-idx3-ubyte").exists() and _leftovers(raw) == []


def test_an_interrupt_leaves_no_partial_file(tmp_path, fake_mnist, monkeypatch):
    source, checksums, _ = fake_mnist
    real = F.hashlib.md5

    class Interrupting:
        def __init__(self, data=b""):
            self._h = real(data)

        def update(self, block):
            raise KeyboardInterrupt

    monkeypatch.setattr(F.hashlib, "md5", Interrupting)
    with pytest.raises(KeyboardInterrupt):
        prepare_mnist(tmp_path / "root", source=source, checksums=checksums)
    raw = tmp_path / "root" / "MNIST" / "raw"
    assert _leftovers(raw) == [] and not any(raw.iterdir())


@pytest.mark.parametrize("where", ["root", "MNIST", "raw"])
def test_a_file_where_a_folder_belongs(tmp_path, fake_mnist, where):
    source, checksums, _ = fake_mnist
    root = tmp_path / "root"
    path = {"root": root, "MNIST": root / "MNIST", "raw": root / "MNIST" / "raw"}[where]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("oops")
    with pytest.raises(MNISTUnavailable) as info:
        prepare_mnist(root, source=source, checksums=checksums)
    assert str(info.value) == (f"{path} is a file, but MNIST needs a folder there; move the file away or set "
                               "LENET_DATA_DIR to a folder")


@pytest.mark.parametrize("name", ["t10k-labels-idx1-ubyte", ".verified.json"])
def test_a_folder_where_a_file_belongs(tmp_path, fake_mnist, name):
    source, checksums, _ = fake_mnist
    root = tmp_path / "root"
    (root / "MNIST" / "raw" / name).mkdir(parents=True)
    with pytest.raises(MNISTUnavailable) as info:
        prepare_mnist(root, source=source, checksums=checksums)
    assert str(info.value) == (f"{root / 'MNIST' / 'raw' / name} is a folder where a file belongs; "
                               "remove it and run again")


def test_a_flipped_byte_with_its_mtime_restored_is_caught(tmp_path, fake_mnist, monkeypatch):
    source, checksums, _ = fake_mnist
    root = tmp_path / "root"
    prepare_mnist(root, source=source, checksums=checksums)
    raw = root / "MNIST" / "raw"
    target = raw / "t10k-images-idx3-ubyte"
    st = target.stat()
    data = bytearray(target.read_bytes())
    data[50] ^= 0x01
    with open(target, "r+b") as f:              # same inode, same size
        f.write(bytes(data))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert target.stat().st_mtime_ns == st.st_mtime_ns and target.stat().st_ino == st.st_ino
    assert not F.already_verified(raw, checksums)
    monkeypatch.delenv("LENET_MNIST_DIR", raising=False)
    with pytest.raises(MNISTUnavailable, match="t10k-images-idx3-ubyte is corrupt: MD5"):
        prepare_mnist(root, checksums=checksums, download=False)


def test_the_record_is_keyed_by_content_and_written_atomically(tmp_path, fake_mnist, monkeypatch):
    source, checksums, _ = fake_mnist
    root = tmp_path / "root"
    prepare_mnist(root, source=source, checksums=checksums)
    raw = root / "MNIST" / "raw"
    stamp = json.loads((raw / ".verified.json").read_text())
    for name, expected in checksums.items():
        assert stamp[name][0] == expected == hashlib.md5((raw / name).read_bytes()).hexdigest()
    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(F.os, "replace", lambda a, b: replaced.append((str(a), str(b))) or real_replace(a, b))
    (raw / ".verified.json").unlink()
    prepare_mnist(root, source=source, checksums=checksums)
    assert replaced and replaced[-1][1] == str(raw / ".verified.json") and replaced[-1][0].endswith(".part")
    assert F.already_verified(raw, checksums) and F.already_verified(raw, checksums, full=True)


def test_full_reverification_catches_what_the_record_cannot(tmp_path, fake_mnist):
    source, checksums, _ = fake_mnist
    root = tmp_path / "root"
    prepare_mnist(root, source=source, checksums=checksums)
    raw = root / "MNIST" / "raw"
    stamp = json.loads((raw / ".verified.json").read_text())
    target = raw / "t10k-labels-idx1-ubyte"
    target.write_bytes(b"\x00" * target.stat().st_size)
    st = target.stat()                                      # forge the record to match the new file
    stamp[target.name] = [checksums[target.name], st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
    (raw / ".verified.json").write_text(json.dumps(stamp))
    assert F.already_verified(raw, checksums)              # the record is fooled ...
    assert not F.already_verified(raw, checksums, full=True)   # ... a full re-hash is not


def test_doctor_full_reports_a_bad_file(tmp_path, monkeypatch):
    from lenet_utils.cli import doctor as doc

    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in F.MNIST_MD5:
        (raw / name).write_bytes(b"x")
    monkeypatch.setenv("LENET_DATA_DIR", str(tmp_path))
    check = doc._mnist(full=True)
    assert check.status == doc.FAIL and "does not match its published MD5" in check.detail
