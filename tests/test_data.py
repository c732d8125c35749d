import json

import pytest
import torch

from lenet_utils import data as D
from lenet_utils import mnist_files as F
from lenet_utils.data import (
    MNIST_MEAN,
    MNIST_STD,
    Augment,
    BatchLoader,
    MNISTSplit,
    MNISTUnavailable,
    normalize,
    prepare_mnist,
)


# --- offline source (synthetic IDX files) ------------------------------------------------------
def test_offline_source_is_decompressed_checked_and_loaded(tmp_path, fake_mnist):
    source, checksums, tensors = fake_mnist
    root = tmp_path / "root"
    assert prepare_mnist(root, source=source, checksums=checksums) == root
    raw = root / "MNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir() if not p.name.startswith(".")) == sorted(checksums)
    from torchvision.datasets import MNIST

    train = MNIST(str(root), train=True, download=False)
    assert torch.equal(train.data, tensors["train-images-idx3-ubyte"])
    assert torch.equal(train.targets, tensors["train-labels-idx1-ubyte"].long())


def test_source_from_environment_variable(tmp_path, fake_mnist, monkeypatch):
    source, checksums, _ = fake_mnist
    monkeypatch.setenv("LENET_MNIST_DIR", str(source))
    prepare_mnist(tmp_path / "root", checksums=checksums)
    assert (tmp_path / "root" / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file()


def test_verified_files_are_not_copied_again(tmp_path, fake_mnist):
    source, checksums, _ = fake_mnist
    root = tmp_path / "root"
    prepare_mnist(root, source=source, checksums=checksums)
    for f in source.iterdir():
        f.unlink()  # the source is gone: a second call must not need it
    prepare_mnist(root, source=source, checksums=checksums)


def test_missing_files_are_named(tmp_path, fake_mnist):
    source, checksums, _ = fake_mnist
    (source / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(MNISTUnavailable, match="lacks t10k-labels-idx1-ubyte"):
        prepare_mnist(tmp_path / "root", source=source, checksums=checksums)


def test_source_that_is_not_a_folder(tmp_path):
    with pytest.raises(MNISTUnavailable, match="is not a folder"):
        prepare_mnist(tmp_path / "root", source=tmp_path / "nowhere")


def test_corrupt_file_fails_its_checksum(tmp_path, fake_mnist):
    source, checksums, _ = fake_mnist
    data = bytearray((source / "t10k-images-idx3-ubyte").read_bytes())
    data[100] ^= 0xFF
    (source / "t10k-images-idx3-ubyte").write_bytes(bytes(data))
    with pytest.raises(MNISTUnavailable, match=r"t10k-images-idx3-ubyte is corrupt: MD5 .* expected"):
        prepare_mnist(tmp_path / "root", source=source, checksums=checksums)


def test_truncated_gzip_is_reported_and_leaves_no_partial_file(tmp_path, fake_mnist):
    source, checksums, _ = fake_mnist
    gz = source / "train-images-idx3-ubyte.gz"
    gz.write_bytes(gz.read_bytes()[:200])
    with pytest.raises(MNISTUnavailable, match="truncated or corrupt"):
        prepare_mnist(tmp_path / "root", source=source, checksums=checksums)
    raw = tmp_path / "root" / "MNIST" / "raw"
    assert not (raw / "train-images-idx3-ubyte").exists()
    assert not list(raw.glob("*.part"))


def test_a_changed_file_is_checked_again(tmp_path, fake_mnist):
    source, checksums, _ = fake_mnist
    root = tmp_path / "root"
    prepare_mnist(root, source=source, checksums=checksums)
    target = root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    target.write_bytes(target.read_bytes()[:-1] + b"\x09")
    for f in source.iterdir():
        f.unlink()
    with pytest.raises(MNISTUnavailable):
        prepare_mnist(root, source=source, checksums=checksums)


def test_download_failure_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("LENET_MNIST_DIR", raising=False)
    import torchvision.datasets

    class Offline:
        def __init__(self, *args, **kwargs):
            raise OSError("Network is unreachable")

    monkeypatch.setattr(torchvision.datasets, "MNIST", Offline)
    with pytest.raises(MNISTUnavailable, match="set LENET_MNIST_DIR") as info:
        prepare_mnist(tmp_path / "root")
    assert "Network is unreachable" in str(info.value)


def test_no_download_allowed_and_nothing_there(tmp_path, monkeypatch):
    monkeypatch.delenv("LENET_MNIST_DIR", raising=False)
    with pytest.raises(MNISTUnavailable, match="downloading is off"):
        prepare_mnist(tmp_path / "root", download=False)


def test_published_checksums_match_the_offline_copy_readme():
    """The MD5s in the code are the decompressed files' published ones."""
    assert F.MNIST_MD5["train-images-idx3-ubyte"] == "6bbc9ace898e44ae57da46a324031adb"
    assert len(F.MNIST_MD5) == 4 and all(len(v) == 32 for v in F.MNIST_MD5.values())


def test_the_file_size_caps_follow_from_the_split_sizes():
    """The real files' sizes, derived from 60,000 and 10,000 images: a cap one byte off refuses MNIST."""
    assert F.MNIST_SIZES == {"train-images-idx3-ubyte": 47_040_016, "train-labels-idx1-ubyte": 60_008,
                             "t10k-images-idx3-ubyte": 7_840_016, "t10k-labels-idx1-ubyte": 10_008}


# --- in memory ----------------------------------------------------------------------------------
def test_normalize_scales_and_centres_and_can_be_undone():
    pixels = torch.tensor([[[0, 255], [128, 64]]], dtype=torch.uint8)
    x = normalize(pixels)
    assert x.shape == (1, 1, 2, 2) and x.dtype == torch.float32
    torch.testing.assert_close(x[0, 0, 0, 0], torch.tensor((0 - MNIST_MEAN) / MNIST_STD))
    torch.testing.assert_close(x[0, 0] * MNIST_STD + MNIST_MEAN, pixels[0].float() / 255)


def test_split_images_subset_and_length():
    split = MNISTSplit(torch.zeros(10, 28, 28, dtype=torch.uint8), torch.arange(10), "test")
    assert len(split) == 10 and split.images.shape == (10, 1, 28, 28)
    small = split.subset(3)
    assert len(small) == 3 and small.name == "test"
    assert torch.equal(split.subset(torch.tensor([9, 0])).labels, torch.tensor([9, 0]))


def test_unknown_split():
    with pytest.raises(ValueError, match="'train', 'val', 'test', 'train_full'"):
        D.load_mnist("validation")


@pytest.mark.mnist
def test_real_mnist_sizes_and_normalisation_constants(mnist_train, mnist_test):
    full = D.load_mnist("train_full")
    assert mnist_train.pixels.shape == (55_000, 28, 28) and mnist_train.pixels.dtype == torch.uint8
    assert full.pixels.shape == (60_000, 28, 28) and mnist_test.pixels.shape == (10_000, 28, 28)
    assert torch.bincount(mnist_test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    x = full.pixels.double() / 255              # the constants are the published file's, all 60,000 digits
    assert abs(x.mean().item() - MNIST_MEAN) < 5e-5
    assert abs(x.std().item() - MNIST_STD) < 5e-5
    images = full.images[:]                             # the full float copy, made on request
    assert abs(images.mean().item()) < 1e-3 and abs(images.std().item() - 1) < 1e-3


@pytest.mark.mnist
def test_validation_split_is_the_last_5000_training_digits_and_never_overlaps_train(mnist_train):
    """The split every choice is made on: fixed (no seed), disjoint from training, views of one map."""
    full, val, again = D.load_mnist("train_full"), D.load_mnist("val"), D.load_mnist("val")
    assert D.SPLIT_SIZES == {"train": 55_000, "val": 5_000, "test": 10_000, "train_full": 60_000}
    assert len(mnist_train) == D.SPLIT_SIZES["train"] and len(val) == D.VAL_SIZE and val.name == "val"
    assert torch.equal(val.pixels, full.pixels[55_000:]) and torch.equal(val.labels, full.labels[55_000:])
    assert torch.equal(mnist_train.pixels, full.pixels[:55_000])
    assert val.pixels.data_ptr() == full.pixels[55_000:].data_ptr()       # a view of the map, not a copy
    assert torch.equal(again.labels, val.labels)                          # the same digits every call
    counts = torch.bincount(val.labels, minlength=10)
    assert counts.min() >= 450 and counts.max() <= 570, counts           # every class held out


def test_load_mnist_maps_the_idx_files_and_never_writes_them(tmp_path, fake_mnist, monkeypatch):
    """The pixels are the IDX file's own pages (one copy per machine); a write stays private."""
    source, checksums, tensors = fake_mnist
    monkeypatch.setattr(F, "MNIST_MD5", checksums)
    root = tmp_path / "root"
    prepare_mnist(root, source=source, checksums=checksums)
    D._LOADED.clear()
    try:
        train = D.load_mnist("train", root)
        assert torch.equal(train.pixels, tensors["train-images-idx3-ubyte"])
        assert torch.equal(train.labels, tensors["train-labels-idx1-ubyte"].long())
        raw_file = str((root / "MNIST" / "raw" / "train-images-idx3-ubyte").resolve())
        ptr = train.pixels.data_ptr()
        maps = [line.split() for line in open("/proc/self/maps")]
        mapped = [m for m in maps if len(m) >= 6 and m[-1] == raw_file]
        assert any(int(m[0].split("-")[0], 16) <= ptr < int(m[0].split("-")[1], 16) for m in mapped), \
            "the pixels do not live in a mapping of the IDX file"
        file_bytes = (root / "MNIST" / "raw" / "train-images-idx3-ubyte").read_bytes()
        train.pixels[0] = 7                              # copy-on-write: this kernel's page only
        assert (root / "MNIST" / "raw" / "train-images-idx3-ubyte").read_bytes() == file_bytes
    finally:
        D._LOADED.clear()


def test_read_idx_refuses_files_that_are_not_idx(tmp_path):
    bad = tmp_path / "t10k-images-idx3-ubyte"
    bad.write_bytes(b"PK\x03\x04 not an idx file")
    with pytest.raises(MNISTUnavailable, match="not an IDX file"):
        D.read_idx(bad)
    short = tmp_path / "short"
    short.write_bytes(bytes([0, 0, 8, 1]) + (100).to_bytes(4, "big") + bytes(10))
    with pytest.raises(MNISTUnavailable, match="holds 18 bytes, its header says 108"):
        D.read_idx(short)


def test_images_view_matches_a_full_normalised_copy():
    pixels = torch.randint(0, 256, (20, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    split, full = MNISTSplit(pixels, torch.arange(20)), normalize(pixels)
    for index in (0, slice(3, 9), torch.tensor([4, 1]), (slice(0, 2), 0), (5, 0, slice(2, 6)), pixels[:, 9, 9] > 127):
        assert torch.equal(split.images[index], full[index])
    assert split.images.shape == full.shape and len(split.images) == 20 and split.images.dtype == torch.float32


def test_batchloader_over_uint8_pixels_gives_the_float_batches():
    pixels = torch.randint(0, 256, (50, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    labels = torch.arange(50)
    from_pixels = list(BatchLoader(pixels, labels, 16, seed=2))
    from_floats = list(BatchLoader(normalize(pixels), labels, 16, seed=2))
    assert len(from_pixels) == len(from_floats) == 4
    for (a, ya), (b, yb) in zip(from_pixels, from_floats):
        assert a.dtype == torch.float32 and torch.equal(a, b) and torch.equal(ya, yb)


# --- batching -----------------------------------------------------------------------------------
def _toy(n=10):
    images = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 28, 28).contiguous()
    return images, torch.arange(n)


def test_loader_visits_every_example_once_per_epoch():
    images, labels = _toy(10)
    loader = BatchLoader(images, labels, batch_size=4, seed=0)
    assert len(loader) == 3
    batches = list(loader)
    assert [len(y) for _, y in batches] == [4, 4, 2]
    seen = torch.cat([y for _, y in batches])
    assert sorted(seen.tolist()) == list(range(10))
    for x, y in batches:  # images travel with their labels
        assert torch.equal(x[:, 0, 0, 0].long(), y)


def test_loader_is_seeded_and_epochs_differ():
    images, labels = _toy(50)
    first = [y for _, y in BatchLoader(images, labels, 8, seed=3)]
    again = [y for _, y in BatchLoader(images, labels, 8, seed=3)]
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    loader = BatchLoader(images, labels, 50, seed=3)
    assert not torch.equal(next(iter(loader))[1], next(iter(loader))[1])


def test_loader_without_shuffle_and_drop_last():
    images, labels = _toy(10)
    loader = BatchLoader(images, labels, 4, shuffle=False, drop_last=True)
    assert [y.tolist() for _, y in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_loader_rejects_bad_arguments():
    images, labels = _toy(4)
    with pytest.raises(ValueError, match="differ in length"):
        BatchLoader(images, labels[:3], 2)
    with pytest.raises(ValueError, match="batch_size"):
        BatchLoader(images, labels, batch_size=0)


def test_augment_keeps_shape_background_and_moves_ink():
    aug = Augment()
    x = torch.full((8, 1, 28, 28), aug.background)
    x[:, :, 10:18, 12:16] = 2.5  # a block of ink
    g = torch.Generator().manual_seed(0)
    y = aug(x, g)
    assert y.shape == x.shape
    torch.testing.assert_close(y[:, :, 0, 0], x[:, :, 0, 0])  # corners stay blank paper
    assert not torch.allclose(y, x)
    ink_before = (x - aug.background).sum((1, 2, 3))
    ink_after = (y - aug.background).sum((1, 2, 3))
    assert torch.all((ink_after / ink_before - 1).abs() < 0.25)  # mild: the digit stays a digit


def test_augment_with_no_distortion_is_the_identity():
    x = torch.randn(4, 1, 28, 28)
    ident = Augment(max_shift=0.0, max_rotation=0.0, scale=(1.0, 1.0))
    torch.testing.assert_close(ident(x, torch.Generator().manual_seed(0)), x, atol=1e-5, rtol=1e-5)


def test_verified_stamp_is_json(tmp_path, fake_mnist):
    source, checksums, _ = fake_mnist
    prepare_mnist(tmp_path / "r", source=source, checksums=checksums)
    stamp = json.loads((tmp_path / "r" / "MNIST" / "raw" / ".verified.json").read_text())
    assert set(stamp) == set(checksums)


def test_a_plain_source_is_linked_not_copied_and_still_checked(tmp_path, fake_mnist):
    """A class shares one page-cache copy of MNIST only if every student's file is the same inode."""
    source, checksums, _ = fake_mnist
    root = tmp_path / "root"
    prepare_mnist(root, source=source, checksums=checksums)
    raw = root / "MNIST" / "raw"
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):  # plain in the source: linked
        assert (raw / name).stat().st_ino == (source / name).stat().st_ino
    assert (raw / "train-images-idx3-ubyte").stat().st_nlink == 1       # gzipped: decompressed, its own file
