import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from toydata import separable

from lenet_utils import LabNet, LeNet5, TrainConfig, fit, set_seed
from lenet_utils.fast import Frozen, prepare
from lenet_utils.fast.folding import ConvPool, Folded, LinearChain, box_blur_kernel, collapse_linears, fold
from lenet_utils.fast.layout import channels_last
from lenet_utils.training import make_optimizer

CONFIGS = [
    {},                                                  # the reference
    {"conv1_kernel": 4},                                 # even kernel, "same": one more pixel on the far side
    {"conv2_kernel": 3, "conv2_padding": 1},             # explicit padding
    {"conv2_kernel": 4},                                 # 11x11 conv map: the pooling drops the odd row
    {"activation": "tanh", "fc_widths": (64,)},
    {"fc_activation": "relu"},                           # convs fold, the Linears cannot
    {"pool": "max"},                                     # Linears fold, the convs cannot
    {"fc_widths": ()},                                   # one Linear: nothing to collapse
    {"activation": "none", "conv1_channels": 3, "conv2_channels": 8},
]


@pytest.mark.parametrize("overrides", CONFIGS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "reference")
def test_folded_and_frozen_compute_the_layer_by_layer_function(overrides):
    torch.manual_seed(0)
    model = LabNet(**overrides).eval()
    x = torch.randn(5, 1, 28, 28)
    expected = model(x)
    torch.testing.assert_close(fold(model)(x), expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(Frozen(model)(x), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("overrides",
                         [*CONFIGS, {"dropout": 0.5}, {"activation": "sigmoid"}, {"fc_activation": "gelu"}],
                         ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "reference")
def test_numpy_forward_computes_the_same_logits_or_declines(overrides):
    """One image through the frozen weights in numpy: the model's logits, or None (PyTorch runs
    instead) exactly when a layer has no numpy form here: max pooling, sigmoid, GELU."""
    torch.manual_seed(0)
    model = LabNet(**overrides).eval()
    run = Frozen(model).one_image
    declines = overrides.get("pool") == "max" or "sigmoid" in overrides.values() or "gelu" in overrides.values()
    assert (run is None) == declines
    if run is not None:
        x = torch.randn(1, 1, 28, 28)
        logits = run(x[0].numpy())
        assert logits.shape == (1, 10) and logits.dtype == np.float32
        torch.testing.assert_close(torch.from_numpy(logits), model(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("build", [LeNet5, LabNet], ids=["LeNet5", "LabNet"])
def test_what_folds_in_the_reference(build):
    net = fold(build())
    assert isinstance(net, Folded)
    kinds = [type(op).__name__ for op in net.ops]
    assert kinds == ["ConvPool", "ReLU", "ConvPool", "ReLU", "Flatten", "LinearChain"]
    weights = [op.conv.weight.shape for op in net.ops if isinstance(op, ConvPool)]
    assert weights == [(6, 1, 5, 5), (16, 6, 5, 5)]              # the model's own 5x5 kernels, folded per call
    assert [layer.out_features for layer in net.ops[-1].layers] == [120, 84, 10]


class ConvThenPoolOutOfOrder(nn.Module):
    """Its layers are listed conv, pool, but its forward puts a ReLU between them: nothing to fold."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.pool = nn.AvgPool2d(2, 2)

    def forward(self, x):
        return self.pool(torch.relu(self.conv(x)))


def test_nothing_to_fold_returns_the_model_itself():
    model = LabNet(pool="max", fc_activation="relu")
    assert fold(model) is model and not Frozen(model).folded
    one_linear = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    assert fold(one_linear) is one_linear
    unknown = ConvThenPoolOutOfOrder()                            # its forward is not its layer list
    assert fold(unknown) is unknown
    x = torch.randn(2, 1, 8, 8)
    torch.testing.assert_close(Frozen(unknown)(x), unknown(x))


def test_box_blur_kernel_is_the_convolution_then_the_average():
    delta = torch.zeros(1, 1, 3, 3)
    delta[0, 0, 1, 1] = 1.0
    blurred = box_blur_kernel(delta)[0, 0]                        # a delta blurred: the 2x2 box, shifted
    expected = torch.zeros(4, 4)
    expected[1:3, 1:3] = 0.25
    torch.testing.assert_close(blurred, expected)

    torch.manual_seed(1)
    w, b, x = torch.randn(4, 3, 5, 5), torch.randn(4), torch.randn(2, 3, 12, 12)
    pooled = F.avg_pool2d(F.conv2d(x, w, b), 2)                   # (2, 4, 4, 4)
    torch.testing.assert_close(F.conv2d(x, box_blur_kernel(w), b, stride=2), pooled, rtol=1e-5, atol=1e-5)


def test_collapsed_linears_are_one_map():
    torch.manual_seed(2)
    layers = [nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)]
    x = torch.randn(7, 400)
    weight, bias = collapse_linears(layers)
    assert weight.shape == (10, 400) and bias.shape == (10,)
    torch.testing.assert_close(F.linear(x, weight, bias), layers[2](layers[1](layers[0](x))), rtol=1e-5, atol=1e-5)
    assert isinstance(LinearChain(layers)(x), torch.Tensor)


def test_folded_model_shares_the_parameters_and_the_mode():
    model = LeNet5()
    net = fold(model)
    assert {id(p) for p in net.parameters()} == {id(p) for p in model.parameters()}
    net.eval()
    assert not model.training
    net.train()
    assert model.training


def test_gradients_reach_the_original_weights_unchanged():
    torch.manual_seed(3)
    model = LeNet5()
    x, y = torch.randn(16, 1, 28, 28), torch.randint(0, 10, (16,))
    F.cross_entropy(model(x), y).backward()
    plain = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    F.cross_entropy(fold(model)(x), y).backward()
    for name, (a, (_, p)) in zip([n for n, _ in model.named_parameters()], zip(plain, model.named_parameters())):
        torch.testing.assert_close(p.grad, a, rtol=1e-4, atol=1e-6, msg=name)


def test_an_optimizer_step_through_the_fold_moves_the_weights_the_same_way():
    x, y = torch.randn(32, 1, 28, 28), torch.randint(0, 10, (32,))
    after = []
    for folded in (False, True):
        set_seed(4)
        model = LeNet5()
        optimizer = make_optimizer(model, TrainConfig())
        net = fold(model) if folded else model
        for _ in range(3):
            optimizer.zero_grad()
            F.cross_entropy(net(x), y).backward()
            optimizer.step()
        after.append([p.detach().clone() for p in model.parameters()])
    for a, b in zip(*after):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_fit_folds_by_default_and_can_run_layer_by_layer():
    data = separable(256)
    runs = {}
    for folded in (True, False):
        set_seed(0)
        model = LeNet5()
        history = fit(model, data, data, TrainConfig(epochs=4, batch_size=32), progress=False, fast=folded)
        runs[folded] = (history, model)
    (h_fold, m_fold), (h_plain, m_plain) = runs[True], runs[False]
    assert h_fold.final.test_acc > 0.9                                  # it learns
    assert abs(h_fold.final.test_acc - h_plain.final.test_acc) <= 0.02  # and the same thing
    for a, b in zip(m_fold.parameters(), m_plain.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-2, atol=1e-3)
    assert type(m_fold) is LeNet5 and isinstance(m_fold.pool1, nn.AvgPool2d)  # the model is untouched
    assert inspect.signature(fit).parameters["fast"].default is True


def test_prepare_is_the_seam_training_and_inference_go_through():
    model = LeNet5()
    net, layout = prepare(model)
    assert isinstance(net, Folded) and net.model is model and layout is channels_last
    frozen, layout = prepare(model, training=False)
    assert isinstance(frozen, Frozen) and frozen.folded
    x = torch.randn(3, 1, 28, 28)
    assert layout(x) is x                                         # the folded network runs NCHW fastest
    _, layout = prepare(LabNet(pool="max", fc_activation="relu"), training=False)
    assert layout is channels_last                                # nothing folded: the layer-by-layer layout


def test_frozen_is_a_snapshot():
    torch.manual_seed(5)
    model = LeNet5().eval()
    x = torch.randn(2, 1, 28, 28)
    snapshot = Frozen(model)
    before = snapshot(x)
    assert snapshot.is_snapshot_of(model)
    with torch.no_grad():
        model.fc3.bias.add_(1.0)
        torch.testing.assert_close(snapshot(x), before)                 # a snapshot does not follow
        torch.testing.assert_close(Frozen(model)(x), model(x), rtol=1e-5, atol=1e-5)
    assert not snapshot.is_snapshot_of(model)
    model.train()
    Frozen(model)
    assert model.training                                           # the model's mode is left alone


def test_collapse_handles_layers_without_bias():
    torch.manual_seed(6)
    for biases in ((False, True), (True, False), (False, False)):
        layers = [nn.Linear(8, 5, bias=biases[0]), nn.Linear(5, 3, bias=biases[1])]
        x = torch.randn(4, 8)
        torch.testing.assert_close(F.linear(x, *collapse_linears(layers)), layers[1](layers[0](x)))
