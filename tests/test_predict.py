"""lenet_utils.predict: the prediction API on top of the pipeline, with the shipped model."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from lenet_utils import LeNet5
from lenet_utils.fast import Frozen
from lenet_utils.images.preprocess import preprocess
from lenet_utils.predict import (
    Prediction,
    default_model,
    example_images,
    example_label,
    predict_file,
    predict_image,
    predict_naive,
)


def seven_png() -> bytes:
    img = Image.new("L", (300, 220), 235)
    ImageDraw.Draw(img).line([(150, 40), (230, 40), (180, 180)], fill=25, width=12)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_prediction_has_label_confidence_ten_probabilities_and_the_input():
    p = predict_image(seven_png(), name="seven.png")
    assert p.ok and p.error is None
    assert p.label == 7
    assert len(p.probabilities) == 10 and math.isclose(sum(p.probabilities), 1.0, abs_tol=1e-5)
    assert p.confidence == max(p.probabilities) == p.probabilities[p.label]
    assert p.image.shape == (1, 28, 28)
    assert torch.equal(p.image, preprocess(seven_png()).input)   # exactly what the network saw
    assert list(p.stages)[-1] == "centred" and p.inverted is True
    assert str(p).startswith("seven.png: 7 (")


def test_to_dict_has_exactly_the_documented_keys():
    d = predict_image(seven_png(), name="seven.png").to_dict()
    assert list(d) == ["file", "label", "confidence", "not_a_digit", "probabilities"]
    assert d["file"] == "seven.png" and d["label"] == 7 and len(d["probabilities"]) == 10 and d["not_a_digit"] is False
    json.dumps(d)  # plain JSON types only
    bad = predict_image(b"not an image", name="notes.txt").to_dict()
    assert bad == {"file": "notes.txt", "error": "notes.txt: not an image (expected PNG, JPEG, GIF, BMP, WebP or TIFF)"}


def test_blank_image_is_no_digit_found_not_a_label():
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), (240, 240, 235)).save(buf, "JPEG")
    p = predict_image(buf.getvalue(), name="blank.jpg")
    assert not p.ok and p.label is None and p.confidence is None and p.probabilities == []
    assert p.error.startswith("blank.jpg: no digit found")
    assert set(p.to_dict()) == {"file", "error"}
    assert "grey" in p.stages, "a panel can still show what was seen"


@pytest.mark.parametrize("source", [b"", b"GIF89a broken", 12345])
def test_bad_input_never_raises(source):
    p = predict_image(source, name="upload")
    assert p.error is not None and p.error.startswith("upload: ") and "\n" not in p.error


def test_bytes_path_pil_and_array_give_the_same_answer(tmp_path):
    data = seven_png()
    path = tmp_path / "seven.png"
    path.write_bytes(data)
    img = Image.open(io.BytesIO(data))
    answers = [predict_image(s) for s in (data, path, str(path), img, np.asarray(img))]
    assert {a.label for a in answers} == {7}
    assert all(a.probabilities == answers[0].probabilities for a in answers)
    assert predict_image(path).file == str(path)


def test_default_model_is_the_shipped_one_loaded_once():
    assert default_model() is default_model()
    assert isinstance(default_model(), LeNet5) and not default_model().training


def test_the_shipped_model_is_read_only_and_its_folded_copy_answers_as_it_does():
    """predict answers the shipped model through a copy folded once at load, so its weights must
    not change under it: they are read-only, and a copy to train comes from load_pretrained()."""
    model = default_model()
    assert not any(p.requires_grad for p in model.parameters())
    x = torch.randn(1, 28, 28)
    p = predict_image(seven_png())
    with torch.no_grad():
        probs = torch.softmax(model(p.image.unsqueeze(0)), dim=1)[0]
    assert p.label == int(probs.argmax()) and abs(p.confidence - float(probs.max())) < 1e-5
    assert torch.allclose(Frozen(model)(x), model(x.unsqueeze(0)), atol=1e-5)


def test_a_given_model_is_used():
    torch.manual_seed(0)
    untrained = LeNet5()
    mine = predict_image(seven_png(), untrained)
    shipped = predict_image(seven_png())
    assert mine.probabilities != shipped.probabilities
    assert untrained.training, "the caller's model is left in the mode it was in"


def test_predict_file_names_the_file_and_reports_missing_ones(tmp_path):
    p = predict_file(tmp_path / "nope.png")
    assert p.error == f"{tmp_path / 'nope.png'}: no such file"


def test_every_example_is_read_right_and_named_by_its_digit():
    examples = example_images()
    assert len(examples) == 10
    assert sorted(example_label(p) for p in examples) == list(range(10))
    assert {p.suffix for p in examples} >= {".png", ".jpg"}
    for path in examples:
        with Image.open(path) as im:
            assert im.width >= 200 and im.height >= 200, f"{path.name} is not upload-sized"
        p = predict_image(path)
        assert p.label == example_label(path), f"{path.name} read as {p.label}"
        assert p.inverted, f"{path.name} should be dark ink on light paper"


def test_an_example_pasted_onto_a_flat_canvas_is_still_read_right():
    """A photo enlarged with a flat border (a collage, a screenshot, "extend canvas") has a hard
    edge where the unevenly lit sheet meets the border. The lighting estimate must keep that edge
    (a morphological opening, not just a minimum) or the pipeline reads the edge as ink."""
    for path in example_images():
        with Image.open(path) as im:
            photo = im.convert("RGB")
        canvas = Image.new("RGB", (400, 400), photo.getpixel((0, 0)))
        photo.thumbnail((400, 400))
        canvas.paste(photo, (0, 0))
        p = predict_image(canvas, name=path.name)
        assert p.label == example_label(path), f"{path.name} on a flat canvas read as {p.label}"


def test_naive_resize_is_what_demo_apps_do():
    p = predict_naive(seven_png(), name="seven.png")
    assert p.ok and p.image.shape == (1, 28, 28)
    assert not torch.equal(p.image, predict_image(seven_png()).image)
    assert predict_naive(b"", name="e.png").error == "e.png: empty file (0 bytes), not an image"


def test_example_label_parses_names():
    assert example_label("data/examples/7_blue_pen.jpg") == 7
    assert example_label("3.png") == 3
    assert example_label("seven.png") is None and example_label("12_x.png") is None


def test_prediction_default_fields():
    p = Prediction("x", error="x: broken")
    assert not p.ok and p.to_dict() == {"file": "x", "error": "x: broken"}


def test_examples_are_regenerated_by_the_script(tmp_path):
    """data/examples comes from scripts/make_examples.py (the project's own strokes, not MNIST)."""
    import runpy

    script = runpy.run_path(str(example_images()[0].parents[2] / "scripts" / "make_examples.py"))
    assert script["main"](["--out", str(tmp_path)]) == 0
    made = sorted(p.name for p in tmp_path.iterdir())
    assert made == [p.name for p in example_images()]
    for name in made:                       # same picture as the committed file (encoders may differ in bytes)
        a = np.asarray(Image.open(tmp_path / name).convert("L"), dtype=np.int16)
        b = np.asarray(Image.open(example_images()[0].parent / name).convert("L"), dtype=np.int16)
        assert a.shape == b.shape and np.abs(a - b).mean() < 2, name
