import pytest
import torch

from lenet_utils.config import LeNetConfig
from lenet_utils.lab_net import LabNet
from lenet_utils.model import LeNet5, count_parameters
from lenet_utils.summary import LayerSummary, describe_layer, layer_summary

# The course's reference table, step by step: (step, layer, output shape, params, MACs per image).
REFERENCE = [
    (1, "Input", ("batch", 1, 28, 28), 0, 0),
    (2, 'Conv2d(1, 6, 5, padding="same")', ("batch", 6, 28, 28), 156, 117_600),
    (3, "AvgPool2d(2, 2)", ("batch", 6, 14, 14), 0, 0),
    (4, "ReLU", ("batch", 6, 14, 14), 0, 0),
    (5, "Conv2d(6, 16, 5)", ("batch", 16, 10, 10), 2_416, 240_000),
    (6, "AvgPool2d(2, 2)", ("batch", 16, 5, 5), 0, 0),
    (7, "ReLU", ("batch", 16, 5, 5), 0, 0),
    (8, "Flatten", ("batch", 400), 0, 0),
    (9, "Linear(400, 120)", ("batch", 120), 48_120, 48_000),
    (10, "Linear(120, 84)", ("batch", 84), 10_164, 10_080),
    (11, "Linear(84, 10)", ("batch", 10), 850, 840),
]


def test_default_summary_reproduces_the_reference_table_row_for_row():
    summary = layer_summary()
    assert [(r.step, r.layer, r.output_shape, r.params, r.macs) for r in summary] == REFERENCE
    assert summary.total_params == 61_706
    assert summary.total_macs == 416_520


def test_model_and_config_give_the_same_table():
    cfg = LeNetConfig(pool="max", conv1_channels=10)
    assert layer_summary(cfg).rows == layer_summary(LabNet(cfg)).rows
    assert layer_summary(LeNet5()).rows == layer_summary().rows  # the plain class is the reference


def test_variant_totals_match_the_model():
    cfg = LeNetConfig(conv1_channels=12, conv2_channels=32, fc_widths=(200,), fc_activation="relu", dropout=0.1)
    model = LabNet(cfg)
    summary = layer_summary(model)
    assert summary.total_params == count_parameters(model)
    assert summary[-1].output_shape == ("batch", 10)
    assert model.training  # the summary leaves the model's mode alone


def test_text_rendering_lists_every_row_and_the_total():
    text = str(layer_summary())
    lines = text.splitlines()
    assert lines[0].split() == ["step", "name", "layer", "output", "shape", "params", "MACs"]
    assert len(lines) == 1 + 1 + 11 + 1 + 1
    assert "(batch, 16, 5, 5)" in text
    assert lines[-1].split() == ["total", "61,706", "416,520"]


def test_html_rendering_is_a_table_with_escaped_text():
    html = layer_summary()._repr_html_()
    assert html.startswith("<table") and html.count("<tr>") == 1 + 11 + 1
    assert "padding=&quot;same&quot;" in html and "61,706" in html


def test_describe_layer():
    assert describe_layer(torch.nn.Conv2d(1, 6, 5, padding=2)) == "Conv2d(1, 6, 5, padding=2)"
    assert describe_layer(torch.nn.MaxPool2d(2, 2)) == "MaxPool2d(2, 2)"
    assert describe_layer(torch.nn.Dropout(0.25)) == "Dropout(0.25)"
    assert describe_layer(torch.nn.GELU()) == "GELU"


def test_rejects_other_things():
    with pytest.raises(TypeError, match="LeNet5 model or a LeNetConfig"):
        layer_summary("lenet")
    assert isinstance(layer_summary(None), LayerSummary)
