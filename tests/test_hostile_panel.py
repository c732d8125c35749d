"""Issue 16, the panel: no widget left alive, no stale answer, no NaN, messages for people."""

from __future__ import annotations

import gc

import ipywidgets as W
import torch

from lenet_utils import LeNet5, save_checkpoint
from lenet_utils.predict import Prediction, example_images
from lenet_utils.widgets import predict_panel
from lenet_utils.widgets.predict_views import answer_html, bars_html


def _live() -> int:
    from ipywidgets.widgets import widget

    live = getattr(widget, "_instances", None)      # what Widget.widgets (deprecated in ipywidgets 8) reads
    return len(live if live is not None else W.Widget.widgets)


def test_a_hundred_uploads_with_the_steps_and_look_inside_shown_leave_no_widgets_behind(tmp_path):
    panel = predict_panel(checkpoints=tmp_path)
    panel.steps_toggle.value = True
    panel.inside.toggle.value = True
    data = example_images()[3].read_bytes()
    panel.predict_bytes(data, "three.png")
    after_one = _live()
    for i in range(100):
        panel.predict_bytes(data, f"three-{i}.png")
    gc.collect()
    assert _live() == after_one, f"{_live() - after_one} widgets leaked over 100 uploads"
    assert len(panel.steps.children) >= 5
    assert panel.inside.inside is not None and "data-state='open'" in panel.inside.view.value


def test_look_inside_a_model_it_cannot_read_says_why_and_the_answer_stands(tmp_path):
    """A model without conv1/conv2/flatten answers, but has no maps to show: the view says why."""
    flat = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
    panel = predict_panel(flat, checkpoints=tmp_path)
    panel.inside.toggle.value = True
    panel.show_example()
    assert panel.prediction.ok and "confidence" in panel.message_text
    assert "data-state='error'" in panel.inside.view.value and "look_inside needs a LeNet-5" in panel.inside.view.value


def test_a_failed_model_switch_clears_the_old_answer(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    payload = torch.load(save_checkpoint(folder / "good.pt", LeNet5()), weights_only=True)
    torch.save({**payload, "metrics": [1, 2, 3]}, folder / "tampered.pt")
    panel = predict_panel(checkpoints=folder)
    panel.show_example()
    assert panel.prediction is not None and panel.prediction.ok
    panel.model_choice.value = str(folder / "tampered.pt")
    assert panel.prediction is None
    assert "data-label=''" in panel.answer.value and "data-top='-1'" in panel.bars.value
    assert panel.message_text == (f"{folder / 'tampered.pt'}: metrics: expected names mapped to numbers (a dict), "
                                  "got [1, 2, 3]; the file was edited or damaged (save it again with save_checkpoint)")
    assert "data-error='1'" in panel.message.value


def test_a_nan_model_shows_no_number(tmp_path):
    model = LeNet5()
    with torch.no_grad():
        model.fc3.bias.fill_(float("nan"))
    panel = predict_panel(model, checkpoints=tmp_path)
    panel.show_example()
    for text in (panel.answer.value, panel.bars.value, panel.message_text):
        assert "nan%" not in text.lower() and "nan sure" not in text.lower() and "with nan" not in text, text
    assert "data-label=''" in panel.answer.value and "data-top='-1'" in panel.bars.value
    assert "not finite" in panel.message_text


def test_the_html_helpers_never_show_a_number_that_is_not_finite():
    bars = bars_html([float("nan"), float("inf")] + [0.1] * 8)
    assert "nan" not in bars.lower() and "inf" not in bars.lower()
    odd = Prediction("x", label=0, confidence=float("nan"), probabilities=[float("nan")] * 10)
    assert "nan" not in answer_html(odd).lower() and "data-label=''" in answer_html(odd)
