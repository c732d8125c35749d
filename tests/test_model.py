import dataclasses
import itertools
import subprocess
import sys
import warnings

import pytest
import torch
from torch import nn

from lenet_utils.checkpoints import migrate_keys
from lenet_utils.config import ConfigError, LeNetConfig
from lenet_utils.inference import predict_proba
from lenet_utils.lab_net import EvenSameConv2d, LabNet
from lenet_utils.model import LeNet5, count_parameters
from lenet_utils.summary import layer_outputs

REFERENCE_LAYERS = [("conv1", "Conv2d"), ("pool1", "AvgPool2d"), ("relu1", "ReLU"),
                    ("conv2", "Conv2d"), ("pool2", "AvgPool2d"), ("relu2", "ReLU"),
                    ("flatten", "Flatten"), ("fc1", "Linear"), ("fc2", "Linear"), ("fc3", "Linear")]


@pytest.mark.parametrize("build", [LeNet5, LabNet], ids=["LeNet5", "LabNet"])
def test_both_networks_are_the_reference_architecture(build):
    model = build()
    assert [(name, type(m).__name__) for name, m in model.named_children()] == REFERENCE_LAYERS
    assert model.conv1.padding == "same"
    assert (model.conv1.in_channels, model.conv1.out_channels) == (1, 6)
    assert model.conv1.kernel_size == (5, 5)
    assert model.conv2.padding == (0, 0)
    assert (model.fc1.in_features, model.fc1.out_features) == (400, 120)
    assert (model.fc2.in_features, model.fc2.out_features) == (120, 84)
    assert (model.fc3.in_features, model.fc3.out_features) == (84, 10)
    assert count_parameters(model) == 61_706


def test_the_plain_class_and_the_lab_network_load_each_others_weights():
    """The reference config builds LeNet5's layers under LeNet5's names: each state_dict loads
    into the other network (strictly) and both compute the same logits."""
    torch.manual_seed(0)
    plain, lab = LeNet5().eval(), LabNet().eval()
    assert list(plain.state_dict()) == list(lab.state_dict())
    x = torch.randn(4, 1, 28, 28)
    lab.load_state_dict(plain.state_dict())
    torch.testing.assert_close(lab(x), plain(x), rtol=0, atol=0)
    torch.manual_seed(1)
    lab2 = LabNet().eval()
    plain.load_state_dict(lab2.state_dict())
    torch.testing.assert_close(plain(x), lab2(x), rtol=0, atol=0)
    assert not torch.equal(plain(x), lab(x))              # the second load did replace the weights


def test_the_same_seed_gives_the_same_initial_weights_in_both_networks():
    """Layers are created in the same order, so set_seed(s) then LeNet5() or LabNet() draws the
    same weights (the variants table's seeds keep meaning what they meant)."""
    torch.manual_seed(3)
    plain = LeNet5()
    torch.manual_seed(3)
    lab = LabNet()
    assert all(torch.equal(a, b) for a, b in zip(plain.state_dict().values(), lab.state_dict().values()))


def test_old_checkpoint_keys_are_renamed():
    old = {"features.conv1.weight": 1, "features.conv2.bias": 2, "classifier.fc1.weight": 3,
           "classifier.out.weight": 4, "classifier.out.bias": 5}
    assert migrate_keys(old, LeNetConfig()) == {"conv1.weight": 1, "conv2.bias": 2, "fc1.weight": 3,
                                                "fc3.weight": 4, "fc3.bias": 5}
    assert migrate_keys({"classifier.out.bias": 0}, LeNetConfig(fc_widths=())) == {"fc1.bias": 0}
    new = LeNet5().state_dict()
    assert migrate_keys(new, LeNetConfig()) is new


def test_forward_gives_raw_logits_and_predict_proba_softmax():
    torch.manual_seed(0)
    model = LeNet5().eval()
    x = torch.randn(4, 1, 28, 28)
    logits = model(x)
    assert logits.shape == (4, 10)
    assert not torch.allclose(logits.sum(1), torch.ones(4))  # not probabilities
    probs = predict_proba(model, x)
    torch.testing.assert_close(probs, torch.softmax(logits, 1), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(probs.sum(1), torch.ones(4))


def test_layer_outputs_returns_every_layer_output_in_order():
    model = LeNet5().eval()
    trace = layer_outputs(model, torch.zeros(2, 1, 28, 28))
    assert [name for name, _, _ in trace] == [name for name, _ in REFERENCE_LAYERS]
    assert trace[-1][2].shape == (2, 10)
    assert [tuple(out.shape[1:]) for _, _, out in trace[:6]] == [
        (6, 28, 28), (6, 14, 14), (6, 14, 14), (16, 10, 10), (16, 5, 5), (16, 5, 5)]
    torch.testing.assert_close(trace[-1][2], model(torch.zeros(2, 1, 28, 28)))


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
        LabNet(conv2_kernel=20)


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
        model = LabNet(cfg).eval()
        outs = {name: out for name, _, out in layer_outputs(model, torch.zeros(1, 1, 28, 28))}
        assert outs["conv1"].shape[-1] == sizes["conv1"]
        assert outs["pool2"].shape[-1] == sizes["pool2"]
        assert outs["flatten"].shape[-1] == sizes["flatten"]
        checked += 1
    assert checked > 40


def test_variants_build_the_layers_they_name():
    cfg = LeNetConfig(pool="max", activation="tanh", fc_activation="relu", fc_widths=(64,), dropout=0.25,
                      conv1_channels=12, conv2_channels=32)
    model = LabNet(cfg)
    layers = [(name, type(m).__name__) for name, m in model.named_children()]
    assert layers == [("conv1", "Conv2d"), ("pool1", "MaxPool2d"), ("tanh1", "Tanh"), ("conv2", "Conv2d"),
                      ("pool2", "MaxPool2d"), ("tanh2", "Tanh"), ("flatten", "Flatten"), ("fc1", "Linear"),
                      ("fc1_relu", "ReLU"), ("drop2", "Dropout"), ("fc2", "Linear")]
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    assert next(LabNet(activation="none").named_children())[0] == "conv1"
    assert [n for n, _ in LabNet(activation="none").named_children()][:3] == ["conv1", "pool1", "conv2"]
    assert [n for n, _ in LabNet(fc_widths=(), dropout=0.5).named_children()][-2:] == ["flatten", "fc1"]


def test_an_even_kernel_with_same_padding_is_pytorchs_layer_without_its_warning():
    """The lab offers even kernels; PyTorch's own layer would warn once per process about a padded
    copy. The lab's layer pads the same pixels itself: the same output, no warning, and nothing
    is silenced for the rest of the process."""
    torch.manual_seed(0)
    lab = LabNet(conv1_kernel=4, conv2_kernel=2, conv2_padding="same").eval()
    assert isinstance(lab.conv1, EvenSameConv2d) and isinstance(lab.conv1, nn.Conv2d)
    assert lab.conv1.padding == "same" and not isinstance(LabNet().conv1, EvenSameConv2d)
    x = torch.randn(2, 1, 28, 28)
    torch_conv = nn.Conv2d(1, 6, 4, padding="same")
    torch_conv.load_state_dict(lab.conv1.state_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                   # PyTorch's note, here on purpose
        torch.testing.assert_close(lab.conv1(x), torch_conv(x))
    assert lab.conv1(x).shape == (2, 6, 28, 28)

    # PyTorch warns once per process, so the silence is checked in a fresh one, warnings as errors,
    # with no filter from this test suite's configuration.
    script = (
        "import warnings, torch\n"
        "from lenet_utils.lab_net import LabNet\n"
        "from lenet_utils.summary import layer_outputs\n"
        "quiet = [f for f in warnings.filters if f[1] is not None and f[1].match(\"Using padding='same' with even\")]\n"
        "assert not quiet, quiet\n"
        "warnings.simplefilter('error')\n"
        "lab = LabNet(conv1_kernel=4, conv2_kernel=2, conv2_padding='same')\n"
        "lab(torch.zeros(2, 1, 28, 28)); layer_outputs(lab, torch.zeros(1, 1, 28, 28))\n"
        "torch.nn.Conv2d(1, 1, 4, padding='same')(torch.zeros(1, 1, 8, 8))\n"   # PyTorch's own layer does warn
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "even kernel" in done.stderr, done.stderr[-2000:]
    assert 'File "<string>", line 9,' in done.stderr, done.stderr[-2000:]          # the last line, not the lab's


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
    m = LeNet5()
    W = m.fc3.weight @ m.fc2.weight @ m.fc1.weight                             # (10, 400)
    b = m.fc3.weight @ (m.fc2.weight @ m.fc1.bias + m.fc2.bias) + m.fc3.bias
    x = torch.randn(5, 16, 5, 5)
    torch.testing.assert_close(m.fc3(m.fc2(m.fc1(m.flatten(x)))), x.flatten(1) @ W.T + b, rtol=1e-4, atol=1e-5)
