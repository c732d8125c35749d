"""The predict panel's callbacks, driven headlessly: set FileUpload.value, press the example
button, feed the drawing pad, switch models, show the steps. (tests/browser/ drives it for real.)"""

from __future__ import annotations

import datetime
import importlib
import io

import pytest
import torch
from PIL import Image, ImageDraw

from lenet_utils import LeNet5, save_checkpoint
from lenet_utils.images.preprocess import STAGES
from lenet_utils.images.strokes import render_strokes
from lenet_utils.predict import Prediction, example_images, example_label
from lenet_utils.widgets import predict_panel
from lenet_utils.widgets.drawing_pad import DrawingPad
from lenet_utils.widgets.predict_panel import GIVEN, PAPER, SHIPPED, PredictPanel
from lenet_utils.widgets.predict_views import answer_html, bars_html, blank_png, original_size


def upload(panel: PredictPanel, data: bytes, name: str = "digit.png") -> None:
    """What the browser does when a file is chosen: FileUpload.value becomes one file entry."""
    panel.upload.value = ({"name": name, "type": "image/png", "size": len(data), "content": memoryview(data),
                           "last_modified": datetime.datetime.now(datetime.timezone.utc)},)


def three_png() -> bytes:
    img = Image.new("RGB", (360, 300), (236, 232, 224))
    draw = ImageDraw.Draw(img)
    draw.arc((200, 40, 280, 120), 200, 450, fill=(20, 20, 30), width=10)
    draw.arc((195, 110, 285, 200), -90, 160, fill=(20, 20, 30), width=10)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def panel(tmp_path) -> PredictPanel:
    return predict_panel(checkpoints=tmp_path / "checkpoints")


def test_upload_shows_the_answer_the_input_and_the_bars(panel):
    upload(panel, three_png(), "three.png")
    p = panel.prediction
    assert p is not None and p.label == 3
    assert "data-label='3'" in panel.answer.value and ">3</div>" in panel.answer.value
    assert f"{p.confidence:.1%} sure" in panel.answer.value
    assert panel.bars.value.count("lenet-bar-col") == 10 and "data-top='3'" in panel.bars.value
    assert panel.message_text.startswith("three.png: 3 with")
    net = Image.open(io.BytesIO(panel.network_input.value))
    assert net.size == (196, 196)                                   # 28 x 7, pixelated
    shown = Image.open(io.BytesIO(panel.original.value))
    assert max(shown.size) == 200                                   # a thumbnail, not the upload
    assert len(panel.upload.value) == 1 and panel.upload.value[0]["name"] == "three.png"
    assert bytes(panel.upload.value[0]["content"]) == b"", "the uploaded bytes are released"
    panel.example_button.click()
    assert panel.upload.value == (), "the answer is an example's now"


def test_the_upload_button_says_what_it_does_without_a_file_count(panel):
    from lenet_utils.widgets.predict_panel import UPLOAD_LABEL

    assert UPLOAD_LABEL == "Upload a photo of a digit" and panel.upload.tooltip.startswith(UPLOAD_LABEL)
    header = panel.children[0].value            # ipywidgets draws "description (count)": CSS draws the label
    assert '.lenet-panel .lenet-upload::after { content: "Upload a photo of a digit"; }' in header
    assert ".lenet-panel .lenet-upload { font-size: 0; }" in header


def test_a_drawing_is_not_shown_twice(panel):
    panel.show_example()
    assert panel.original.value != blank_png() and "px" in panel.original_note.value
    panel.pad.draw([[(100, 20), (106, 180)]])
    assert panel.prediction.label == 1
    assert panel.original.value == blank_png(), "the drawing is on the pad: the image card does not repeat it"
    assert "your drawing is on the pad" in panel.original_note.value


def test_uploading_the_same_file_twice_works(panel):
    upload(panel, three_png(), "a.png")
    upload(panel, three_png(), "a.png")
    assert panel.prediction.label == 3 and panel.message_text.startswith("a.png: 3")


@pytest.mark.parametrize("data, reason", [
    (b"", "empty file"),
    (b"just some text", "not an image"),
    (three_png()[:200], "truncated or corrupt"),
])
def test_bad_uploads_are_a_message_in_the_panel(panel, data, reason):
    upload(panel, data, "bad.png")
    assert panel.prediction is not None and panel.prediction.label is None
    assert panel.message_text.startswith("bad.png: ") and reason in panel.message_text
    assert "data-error='1'" in panel.message.value and "Traceback" not in panel.message.value
    assert "data-label=''" in panel.answer.value


def test_blank_upload_says_no_digit_found(panel):
    buf = io.BytesIO()
    Image.new("L", (200, 200), 250).save(buf, "PNG")
    upload(panel, buf.getvalue(), "blank.png")
    assert "no digit found" in panel.message_text
    assert "no digit found" in panel.answer.value


def test_example_button_cycles_through_the_projects_examples(panel):
    seen = []
    for _ in range(len(example_images()) + 1):
        panel.example_button.click()
        name = panel.message_text.split(":")[0]
        seen.append(name)
        assert panel.prediction.label == example_label(name), panel.message_text
        assert "(right)" in panel.message_text
    assert seen[:10] == [p.name for p in example_images()] and seen[10] == seen[0]


def test_the_drawing_pad_feeds_the_same_pipeline(panel):
    panel.pad.draw([[(100, 20), (106, 180)]])                       # a stroke from top to bottom: a 1
    assert panel.prediction.label == 1
    assert panel.message_text.startswith("your drawing: 1")
    panel.pad.clear()
    assert panel.prediction is None and "clear" in panel.message_text
    # what the browser sends after a stroke: PNG bytes on the `png` trait
    panel.pad.png = render_strokes([[(60, 40), (220, 40), (120, 250)]])
    assert panel.prediction.label == 7


def test_show_the_steps_lays_out_every_stage(panel):
    upload(panel, three_png())
    assert panel.steps.layout.display == "none" and panel.steps.children == ()
    panel.steps_toggle.value = True
    assert panel.steps.layout.display == "flex"
    assert len(panel.steps.children) == len(STAGES)
    captions = [tile.children[1].value for tile in panel.steps.children]
    assert all(f"{i}. " in c for i, c in enumerate(captions, 1))
    panel.example_button.click()                                    # stays in step with new input
    assert len(panel.steps.children) == len(STAGES)
    panel.steps_toggle.value = False
    assert panel.steps.layout.display == "none"


def test_model_chooser_lists_shipped_and_trained_checkpoints(tmp_path):
    folder = tmp_path / "checkpoints"
    torch.manual_seed(0)
    save_checkpoint(folder / "03_training.pt", LeNet5())            # an untrained "user" model
    (folder / "broken.pt").write_bytes(b"not a checkpoint")
    panel = predict_panel(checkpoints=folder)
    values = [v for _, v in panel.model_choice.options]
    assert values == [SHIPPED, PAPER, str(folder / "03_training.pt"), str(folder / "broken.pt")]

    upload(panel, three_png())
    shipped = panel.prediction.probabilities
    panel.model_choice.value = PAPER                                # the 1998 network answers too
    assert panel.prediction.label == 3 and panel.prediction.probabilities != shipped
    panel.model_choice.value = str(folder / "03_training.pt")      # the answer is recomputed
    assert panel.prediction.probabilities != shipped

    panel.model_choice.value = str(folder / "broken.pt")           # a bad file is a message
    assert "not a readable checkpoint" in panel.message_text or "not a lenet_utils checkpoint" in panel.message_text
    assert "data-error='1'" in panel.message.value

    (folder / "lenet5.pt").write_bytes((folder / "03_training.pt").read_bytes())
    panel.refresh_button.click()
    assert str(folder / "lenet5.pt") in [v for _, v in panel.model_choice.options]


def test_a_model_passed_in_comes_first(tmp_path):
    model = LeNet5()
    panel = predict_panel(model, checkpoints=tmp_path)
    assert panel.model_choice.value == GIVEN
    assert panel.current_model() is model


def test_no_examples_folder_is_a_message(tmp_path):
    panel = predict_panel(examples=tmp_path / "none", checkpoints=tmp_path)
    panel.example_button.click()
    assert "No example images" in panel.message_text


def test_unexpected_errors_are_shown_not_raised(panel, monkeypatch):
    module = importlib.import_module("lenet_utils.widgets.predict_panel")   # the module, not the function

    monkeypatch.setattr(module, "predict_image", lambda *a, **k: 1 / 0)
    panel.example_button.click()
    assert panel.message_text.startswith("Something went wrong inside the panel (ZeroDivisionError")


def test_html_helpers():
    assert bars_html(None).count("lenet-bar-col") == 10 and "data-top='-1'" in bars_html(None)
    assert "upload, pick or draw" in answer_html(None)


def test_drawing_pad_widget():
    pad = DrawingPad()
    assert "export default { render }" in str(pad._esm)              # the JavaScript was found and loaded
    assert ".lenet-pad-canvas" in str(pad._css)
    pad.draw([[(10, 10), (100, 100)], [(50, 200)]])
    assert pad.strokes == 2 and pad.png[:8] == b"\x89PNG\r\n\x1a\n"
    assert Image.open(io.BytesIO(pad.png)).size == (280, 280)
    pad.clear()
    assert pad.png == b"" and pad.strokes == 0


def photo_jpeg(width: int, height: int, orientation: int | None = None) -> bytes:
    """A photo-sized JPEG of a dark 3 on paper, with an EXIF orientation tag when given."""
    img = Image.new("RGB", (width, height), (236, 232, 224))
    draw = ImageDraw.Draw(img)
    s = min(width, height) / 300
    draw.arc((100 * s, 40 * s, 180 * s, 120 * s), 200, 450, fill=(20, 20, 30), width=round(10 * s))
    draw.arc((95 * s, 110 * s, 185 * s, 200 * s), -90, 160, fill=(20, 20, 30), width=round(10 * s))
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80, exif=exif.tobytes())
    return buf.getvalue()


def test_the_original_size_is_shown_not_the_working_copys(panel):
    upload(panel, photo_jpeg(4032, 3024), "big photo.jpg")
    assert panel.prediction.ok and max(panel.prediction.stages["oriented"].shape[:2]) < 4032   # worked on smaller
    assert "big photo.jpg, 4032x3024 px" in panel.original_note.value
    assert original_size(photo_jpeg(400, 300, orientation=6)) == (300, 400)      # a quarter turn: as shown
    assert original_size(b"not an image") is None


def answered(label: int = 3, confidence: float = 0.97, **kw) -> Prediction:
    probs = [0.0] * 10
    probs[label] = confidence
    return Prediction(file="x.png", label=label, confidence=confidence, probabilities=probs, **kw)


def test_not_a_digit_replaces_the_confident_answer_and_keeps_the_label():
    sure, unsure = answer_html(answered()), answer_html(answered(confidence=0.4))
    odd = answer_html(answered(7, 0.95, not_a_digit=True))
    assert "data-state='sure'" in sure and ">3</div>" in sure and "97.0% sure" in sure
    assert "data-state='unsure'" in unsure and "unsure" in unsure
    assert "data-state='not-a-digit'" in odd and "data-label='7'" in odd
    assert "This doesn't look like a digit" in odd and "closest digit: <b>7</b>" in odd
    assert odd.index("This doesn't look like a digit") < odd.index("closest digit")     # it leads
    assert "95" not in odd and "% sure" not in odd and ">7</div>" not in odd  # no confident 7, no 95%
    assert "data-state='empty'" in answer_html(None)
    assert "data-state='error'" in answer_html(Prediction(file="x", error="x: not an image"))


def test_the_panel_shows_not_a_digit_from_the_prediction(panel, monkeypatch):
    module = importlib.import_module("lenet_utils.widgets.predict_panel")
    real = module.predict_image

    def flagged(*args, **kwargs):
        pred = real(*args, **kwargs)
        pred.not_a_digit = True
        return pred

    monkeypatch.setattr(module, "predict_image", flagged)
    upload(panel, three_png(), "scribble.png")
    assert "data-state='not-a-digit'" in panel.answer.value and "closest digit: <b>3</b>" in panel.answer.value
    assert panel.message_text == "scribble.png: this doesn't look like a digit (the closest is a 3)"
    assert "%" not in panel.message_text and "confidence" not in panel.message_text


def test_look_inside_is_computed_only_while_open(panel, monkeypatch):
    view = importlib.import_module("lenet_utils.widgets.look_inside_view")
    calls = []
    real = view.look_inside
    monkeypatch.setattr(view, "look_inside", lambda *a, **k: calls.append(1) or real(*a, **k))
    upload(panel, three_png())
    assert calls == [] and panel.inside.view.layout.display == "none"          # closed: not computed
    panel.inside.toggle.value = True                                            # opened: this digit's maps
    assert calls == [1] and panel.inside.view.layout.display == "flex"
    inside = panel.inside.inside
    assert inside.label == 3 and inside.conv1.shape == (6, 14, 14) and inside.conv2.shape == (16, 5, 5)
    html = panel.inside.view.value
    assert "data-state='open'" in html and "data-label='3'" in html
    assert html.count("lenet-inside-tile") == 6 + 16 and html.count("lenet-inside-row") == 5
    top_map = inside.top(1)[0][0]
    assert f"map {top_map}</span>" in html and "score of 3 =" in html
    panel.example_button.click()                                                # follows new input
    assert calls == [1, 1] and panel.inside.inside.label == panel.prediction.label
    panel.pad.draw([])                                                          # no answer: no maps
    panel.pad.clear()
    assert panel.inside.inside is None and "data-state='empty'" in panel.inside.view.value
    panel.inside.toggle.value = False
    upload(panel, three_png())
    assert calls == [1, 1] and panel.inside.view.layout.display == "none"


def test_every_card_has_its_fixed_size_class(panel):
    cards = panel.children[2].children
    kinds = [next(c for c in card._dom_classes if c.startswith("lenet-card-")) for card in cards]
    assert kinds == ["lenet-card-image", "lenet-card-pad", "lenet-card-answer"]
    css = (importlib.import_module("lenet_utils.widgets.predict_panel")._CSS)
    for kind in kinds:
        assert f".{kind}" in css


@pytest.mark.parametrize("name, strokes", [
    ("a dash", [[(40, 100), (160, 100)]]),
    ("a scribble", [[(30 + (i * 37) % 140, 30 + (i * 53) % 140) for i in range(25)]]),
    ("a hash sign", [[(70, 30), (70, 170)], [(130, 30), (130, 170)], [(30, 70), (170, 70)], [(30, 130), (170, 130)]]),
])
def test_marks_drawn_on_the_pad_that_are_no_digit_get_the_not_a_digit_answer(panel, name, strokes):
    """The shipped detector, end to end: what issue 14 saw read as '2, 70.0% sure' now says it is no digit."""
    panel.pad.draw(strokes)
    assert panel.prediction.not_a_digit, (name, panel.prediction.label, panel.prediction.confidence)
    assert "data-state='not-a-digit'" in panel.answer.value and "This doesn't look like a digit" in panel.answer.value
    panel.pad.draw([[(100, 20), (106, 180)]])                       # a 1 is still a 1
    assert not panel.prediction.not_a_digit and "data-state='sure'" in panel.answer.value
