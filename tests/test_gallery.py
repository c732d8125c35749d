"""The dashboard's numbers, figures and exports, on zero, one and a simulated class of shares;
and the simulated class itself (not MNIST: drawn by the stroke generator)."""

from __future__ import annotations

import struct

import matplotlib.pyplot as plt
import numpy as np

from lenet_utils.classroom.gallery import (
    confusion,
    export_idx,
    export_npz,
    from_shares,
    hardest,
    load_gallery,
    per_nickname,
    plot_accuracy,
    plot_gallery,
)
from lenet_utils.classroom.shares import capped_original
from lenet_utils.classroom.store import ClassDB, Share
from lenet_utils.synthetic.simulated_class import fill_demo_db, simulate_class


def share(label, predicted, nickname="", p_true=None, value=10):
    probs = [] if p_true is None else [p_true if d == label else (1 - p_true) / 9 for d in range(10)]
    return Share(np.full((28, 28), value, np.uint8), label, predicted, 0.9, capped_original(np.zeros((5, 5), np.uint8)),
                 nickname=nickname, owner="x", probabilities=probs)


def test_zero_shares_give_empty_figures_and_nan_accuracy(tmp_path):
    g = load_gallery(ClassDB(tmp_path / "c.sqlite"))
    assert len(g) == 0 and np.isnan(g.accuracy())
    assert confusion(g).sum() == 0 and per_nickname(g) == [] and len(hardest(g)) == 0
    assert plot_gallery(g).get_title() == "no shares yet"
    plot_accuracy(g.accuracy(), 0.99)
    assert np.load(export_npz(g, tmp_path / "e.npz"))["pixels"].shape == (0, 28, 28)
    plt.close("all")


def test_filters_confusion_hardest_and_nicknames():
    g = from_shares([share(7, 7, "ann", 0.9), share(7, 1, "ann", 0.2), share(4, 9, "", 0.05), share(3, 3, "bo", 0.99)])
    g.ids = np.arange(1, 5)
    assert g.accuracy() == 0.5
    assert len(g.only(label=7)) == 2 and len(g.only(label=7, right=False)) == 1 and len(g.only(right=True)) == 2
    cm = confusion(g)
    assert cm[7, 7] == 1 and cm[7, 1] == 1 and cm[4, 9] == 1 and cm.sum() == 4
    assert list(hardest(g, 2).labels) == [4, 7] and list(hardest(g, 2).predicted) == [9, 1]
    assert per_nickname(g) == [("ann", 2, 1), ("(no name)", 1, 0), ("bo", 1, 1)]
    ax = plot_gallery(g)
    assert len(ax.patches) == 2                      # the two wrong ones are framed
    plt.close("all")


def test_exports_round_trip(tmp_path):
    g = from_shares([share(d, d, value=d * 20 + 1) for d in range(10)])
    z = np.load(export_npz(g, tmp_path / "class.npz"))
    assert (z["labels"] == np.arange(10)).all() and (z["pixels"][3] == 61).all()
    images, labels = export_idx(g, tmp_path / "idx")
    magic, n, h, w = struct.unpack(">IIII", images.read_bytes()[:16])
    assert (magic, n, h, w) == (0x803, 10, 28, 28)
    assert list(labels.read_bytes()[8:]) == list(range(10))
    assert np.frombuffer(images.read_bytes()[16:], np.uint8).reshape(10, 28, 28)[9].max() == 181


def test_split_keeps_every_digit_on_both_sides():
    g = from_shares([share(d % 10, d % 10) for d in range(60)])
    g.ids = np.arange(60)
    train, test = g.split(0.5, seed=1)
    assert len(train) + len(test) == 60 and not set(train.ids) & set(test.ids)
    assert sorted(set(train.labels)) == sorted(set(test.labels)) == list(range(10))


def test_the_simulated_class_is_a_few_hundred_varied_drawings_and_fills_a_store(tmp_path):
    drawings = simulate_class(writers=32)
    assert len(drawings) == 320 and {d.label for d in drawings} == set(range(10))
    assert len({d.png for d in drawings}) == 320                      # no two alike
    assert simulate_class(writers=2)[5].png == simulate_class(writers=2)[5].png   # seeded
    db = ClassDB(tmp_path / "c.sqlite")
    stored = fill_demo_db(db, drawings[:40])
    g = load_gallery(db)
    assert stored == len(g) >= 38
    assert 0.5 <= g.accuracy() <= 1.0                    # the shipped model reads most of them
    assert len(per_nickname(g)) == 4
