"""Sharing from the predict panel: an explicit choice per answered image, the label corrected,
a nickname, deleting one's own shares; refused images and unusable stores give a message."""

from __future__ import annotations

import dataclasses
import importlib

import numpy as np
import pytest

from lenet_utils.classroom.shares import capped_original
from lenet_utils.classroom.store import ClassDB
from lenet_utils.images.strokes import render_strokes
from lenet_utils.predict import example_images, example_label
from lenet_utils.widgets import predict_panel  # the function (importing the submodule by name would shadow it)
from lenet_utils.widgets.share_box import ShareBox


@pytest.fixture
def panel(tmp_path):
    p = predict_panel()
    p.share._db = ClassDB(tmp_path / "class.sqlite")
    p.share.owner = "ann"
    return p


def test_nothing_is_shared_until_the_button_and_the_corrected_label_is_stored(panel):
    box = panel.share
    assert box.share_button.disabled                         # no answer yet
    example = example_images()[0]
    panel.show_example()
    assert not box.share_button.disabled and box.true_label.value == example_label(example)
    assert len(box.db) == 0                                   # answering shares nothing
    box.true_label.value = 3                                  # the student corrects the label
    box.nickname.value = "Ann\x07 the Great"
    box.share_button.click()
    (s,) = box.db.shares(with_original=True)
    assert (s.true_label, s.predicted, s.nickname, s.owner, s.source) == (3, panel.prediction.label,
                                                                         "Ann the Great", "ann", "example")
    assert s.pixels.shape == (28, 28) and s.pixels.max() > 100 and s.original.startswith(b"\x89PNG")
    assert len(s.probabilities) == 10 and abs(sum(s.probabilities) - 1) < 1e-3
    assert box.share_button.disabled                          # once per image
    assert "data-shared" in box.status.value


def test_a_drawing_is_shared_and_deleted_only_by_its_owner(panel):
    panel.pad.draw([[(100, 20), (100, 180)]])
    assert panel.prediction.label == 1
    panel.share.true_label.value = 1                          # the student says what it is
    panel.share.share_button.click()
    assert len(panel.share.mine_list.options) == 1
    other = ShareBox(db=panel.share.db, owner="bob")
    other.refresh_mine()
    assert other.mine_list.options == () and other.delete_button.disabled
    panel.share.delete_button.click()
    assert len(panel.share.db) == 0 and "Deleted" in panel.share.status.value


def test_a_refused_image_cannot_be_shared(panel):
    panel.predict_bytes(b"not an image at all", "notes.txt")
    assert panel.prediction.error and panel.share.share_button.disabled
    panel.predict_bytes(render_strokes([], 200), "blank.png")            # a blank page: no digit
    assert panel.share.share_button.disabled


def test_an_unusable_store_is_one_red_line(panel, tmp_path):
    bad = tmp_path / "notes.sqlite"
    bad.write_bytes(b"lecture notes " * 10)
    panel.share._db = None
    panel.show_example()
    import os
    os.environ["LENET_CLASS_DB"] = str(bad)
    try:
        panel.share.share_button.click()
    finally:
        del os.environ["LENET_CLASS_DB"]
    assert "lenet-error" in panel.share.status.value and "not an SQLite database" in panel.share.status.value
    assert bad.read_bytes() == b"lecture notes " * 10


def test_the_stored_original_is_size_capped():
    noisy = np.random.default_rng(0).integers(0, 256, (3000, 2000, 3), dtype=np.uint8)
    png = capped_original(noisy)
    import io

    from PIL import Image
    img = Image.open(io.BytesIO(png))
    assert max(img.size) <= 256 and len(png) <= 200_000


def _smiley(smile: float = 50.0) -> list[list[tuple[float, float]]]:
    """A face on the 200 px pad: a round head, two dot eyes and a smile of radius ``smile``."""
    import math

    def arc(cx, cy, r, a0=0.0, a1=2 * math.pi, n=24):
        return [(cx + r * math.cos(a0 + (a1 - a0) * t / n), cy + r * math.sin(a0 + (a1 - a0) * t / n))
                for t in range(n + 1)]
    return [arc(100, 100, 75), [(72, 75)], [(128, 75)], arc(100, 105, smile, 0.15 * math.pi, 0.85 * math.pi, 12)]


SMILEY = _smiley()


def test_a_smiley_is_not_offered_as_a_digit_and_is_not_shared_by_default(panel, monkeypatch):
    """Whatever the not-a-digit detector says of it (it misses this one: a confident 0), a smiley
    drawn on the pad gets no label, so a click cannot share it as a digit."""
    box = panel.share
    panel.pad.draw(SMILEY)
    assert panel.prediction.ok and panel.prediction.label == 0 and panel.prediction.confidence > 0.8
    assert box.true_label.value is None, "no label guessed: the network read a smiley as a 0"
    assert box.share_button.disabled
    box.share_button.click()                                  # a disabled button does nothing
    box._safely(box.share)                                    # nor does calling the action behind it
    assert len(box.db) == 0 and "Pick the digit it shows first" in box.status.value

    module = importlib.import_module("lenet_utils.widgets.predict_panel")   # and when it is flagged,
    real = module.predict_image                                             # the box says so
    monkeypatch.setattr(module, "predict_image", lambda *a, **k: dataclasses.replace(real(*a, **k), not_a_digit=True))
    panel.pad.clear()
    panel.pad.draw(SMILEY)
    assert box.true_label.value is None and box.share_button.disabled
    assert "data-not-a-digit" in box.status.value and "doesn&#x27;t look like a digit" in box.status.value
    box.true_label.value = 0                                  # only the student's own choice shares it
    assert not box.share_button.disabled
    box.share_button.click()
    (s,) = box.db.shares()
    assert s.true_label == 0 and s.source == "drawing"
    assert box.share_button.disabled                          # shared once...
    box.true_label.value = 5
    assert box.share_button.disabled                          # ...and a new label does not share it twice


def test_only_an_example_comes_with_its_label(panel):
    panel.pad.draw([[(100, 20), (106, 180)]])
    assert panel.prediction.label == 1 and panel.share.true_label.value is None
    assert panel.share.share_button.disabled and "Which digit is it really?" in panel.share.status.value
    panel.show_example()
    assert panel.share.true_label.value == example_label(example_images()[0])
    assert not panel.share.share_button.disabled
