import dataclasses
import itertools

import pytest
import torch
from torch import nn

from lenet_utils.model import ConfigError, LeNet5, LeNetConfig, count_parameters


def test_default_is_the_reference_architecture():
    model = LeNet5()
    layers = [(name, type(m).__name__) for name, m in model.steps()]
    assert layers == [("conv1", "Conv2d"), ("pool1", "AvgPool2d"), ("act1", "ReLU"),
                      ("conv2", "Conv2d"), ("pool2", "AvgPool2d"), ("act2", "ReLU"),
                      ("flatten", "Flatten"), ("fc1", "Linear"), ("fc2", "Linear"), ("out", "Linear")]
    assert model.features.conv1.padding == "same"
    assert (model.features.conv1.in_channels, model.features.conv1.out_channels) == (1, 6)
    assert model.features.conv1.kernel_size == (5, 5)
    assert model.features.conv2.padding == (0, 0)
    assert (model.classifier.fc1.in_features, model.classifier.fc1.out_features) == (400, 120)
    assert (model.classifier.fc2.in_features, model.classifier.fc2.out_features) == (120, 84)
    assert (model.classifier.out.in_features, model.classifier.out.out_features) == (84, 10)
    assert model.num_parameters() == count_parameters(model) == 61_706


def test_forward_gives_raw_logits_and_predict_proba_softmax():
    torch.manual_seed(0)
    model = LeNet5().eval()
    x = torch.randn(4, 1, 28, 28)
    logits = model(x)
    assert logits.shape == (4, 10)
    assert not torch.allclose(logits.sum(1), torch.ones(4))  # not probabilities
    probs = model.predict_proba(x)
    torch.testing.assert_close(probs, torch.softmax(logits, 1))
    torch.testing.assert_close(probs.sum(1), torch.ones(4))


def test_trace_returns_every_layer_output_in_order():
    model = LeNet5().eval()
    trace = model.trace(torch.zeros(2, 1, 28, 28))
    assert [name for name, _, _ in trace][:3] == ["conv1", "pool1", "act1"]
    assert trace[-1][2].shape == (2, 10)
    assert [tuple(out.shape[1:]) for _, _, out in trace[:6]] == [
        (6, 28, 28), (6, 14, 14), (6, 14, 14), (16, 10, 10), (16, 5, 5), (16, 5, 5)]


@pytest.mark.parametrize("overrides, field, words", [
    ({"conv2_kernel": 15}, "conv2_kernel", "larger than its 14x14 input map"),
    ({"conv1_kernel": 29}, "conv1_kernel", "larger than its 28x28 input image"),
    ({"conv2_kernel": 14}, "conv2_kernel", "too small for the 2x2 pooling"),
    ({"conv1_channels": 0}, "conv1_channels", "integer from 1"),
    ({"conv2_channels": 2.5}, "conv2_channels", "integer"),
    ({"pool": "min"}, "pool", "'avg', 'max'"),
    ({"activation": "softmax"}, "activation", "must be one of"),
    ({"fc_activation": "swish"}, "fc_activation", "must be one of"),
    ({"fc_widths": (120, 0)}, "fc_widths", "layer 2 width"),
    ({"dropout": 1.0}, "dropout", "[0, 1)"),
    ({"dropout": -0.1}, "dropout", "[0, 1)"),
    ({"conv1_padding": "full"}, "conv1_padding", "'same', 'valid'"),
    ({"conv1_padding": 5}, "conv1_padding", "at most 4"),
    ({"image_size": 2}, "image_size", "integer from 4"),
])
def test_impossible_config_is_refused_naming_the_field(overrides, field, words):
    with pytest.raises(ConfigError) as info:
        LeNetConfig(**overrides)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert words in str(info.value)
    assert isinstance(info.value, ValueError)


def test_invalid_override_is_refused_before_building():
    with pytest.raises(ConfigError, match="conv2_kernel"):
        LeNet5(conv2_kernel=20)


def test_feature_sizes_match_real_shapes_across_many_configs():
    """The analytic shape arithmetic used for validation agrees with what PyTorch computes."""
    grid = itertools.product([1, 4, 5, 7], [0, 2, "same", "valid"], [2, 5], [0, "same"], ["avg"])
    checked = 0
    for k1, p1, k2, p2, pool in grid:
        try:
            cfg = LeNetConfig(conv1_kernel=k1, conv1_padding=p1, conv2_kernel=k2, conv2_padding=p2, pool=pool)
        except ConfigError:
            continue
        sizes = cfg.feature_sizes()
        model = LeNet5(cfg).eval()
        outs = {name: out for name, _, out in model.trace(torch.zeros(1, 1, 28, 28))}
        assert outs["conv1"].shape[-1] == sizes["conv1"]
        assert outs["pool2"].shape[-1] == sizes["pool2"]
        assert outs["flatten"].shape[-1] == sizes["flatten"]
        checked += 1
    assert checked > 40


def test_variants_build_the_layers_they_name():
    cfg = LeNetConfig(pool="max", activation="tanh", fc_activation="relu", fc_widths=(64,), dropout=0.25,
                      conv1_channels=12, conv2_channels=32)
    model = LeNet5(cfg)
    kinds = [type(m).__name__ for _, m in model.steps()]
    assert kinds == ["Conv2d", "MaxPool2d", "Tanh", "Conv2d", "MaxPool2d", "Tanh", "Flatten",
                     "Linear", "ReLU", "Dropout", "Linear"]
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    assert LeNet5(activation="none").steps().__next__()[0] == "conv1"
    assert "act1" not in dict(LeNet5(activation="none").steps())


def test_lists_become_tuples_and_round_trip_through_dicts():
    cfg = LeNetConfig(fc_widths=[100, 50])
    assert cfg.fc_widths == (100, 50)
    data = cfg.to_dict()
    assert data["fc_widths"] == [100, 50]
    assert LeNetConfig.from_dict(data) == cfg
    with pytest.raises(ConfigError, match="not a LeNetConfig setting"):
        LeNetConfig.from_dict({**data, "colour": "blue"})


def test_differences_and_description():
    assert LeNetConfig().describe_changes() == "reference"
    cfg = LeNetConfig(pool="max", activation="tanh")
    assert cfg.differences() == {"pool": ("avg", "max"), "activation": ("relu", "tanh")}
    assert cfg.describe_changes() == "pool=max, activation=tanh"
    assert LeNetConfig(fc_widths=(64, 32)).describe_changes() == "fc_widths=(64, 32)"


def test_config_is_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        LeNetConfig().pool = "max"


def test_linear_layers_without_activation_compose_into_one_map():
    """The reference has no activation between its Linear layers: they are one affine map."""
    torch.manual_seed(0)
    clf = LeNet5().classifier
    W = clf.out.weight @ clf.fc2.weight @ clf.fc1.weight                       # (10, 400)
    b = clf.out.weight @ (clf.fc2.weight @ clf.fc1.bias + clf.fc2.bias) + clf.out.bias
    x = torch.randn(5, 16, 5, 5)
    torch.testing.assert_close(clf(x), x.flatten(1) @ W.T + b, rtol=1e-4, atol=1e-5)
    assert isinstance(clf, nn.Sequential)
