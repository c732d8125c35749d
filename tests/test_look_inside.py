"""look_inside: the feature maps of one digit and each conv2 map's share of the winning score."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lenet_utils import LeNet5
from lenet_utils.lab_net import LabNet
from lenet_utils.predict.look_inside import look_inside, stage_layers


@pytest.fixture
def model() -> LeNet5:
    torch.manual_seed(0)
    return LeNet5()


def digit() -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    return torch.randn(1, 28, 28, generator=g)


def test_maps_are_relu1_and_relu2_outputs(model):
    x = digit()
    inside = look_inside(model, x)
    assert inside.input.shape == (28, 28) and np.allclose(inside.input, x[0].numpy())
    assert inside.conv1.shape == (6, 14, 14) and inside.conv2.shape == (16, 5, 5)
    with torch.no_grad():
        a1 = model.relu1(model.pool1(model.conv1(x[None])))
        a2 = model.relu2(model.pool2(model.conv2(a1)))
        logits = model(x[None])[0]
    assert np.allclose(inside.conv1, a1[0].numpy(), atol=1e-6)
    assert np.allclose(inside.conv2, a2[0].numpy(), atol=1e-6)
    assert (inside.conv1 >= 0).all() and (inside.conv2 >= 0).all()     # after the ReLU
    assert inside.label == int(logits.argmax()) and inside.score == pytest.approx(float(logits.max()), abs=1e-5)


def test_contributions_add_up_to_the_score_in_the_reference_lenet5(model):
    """After relu2 the reference network is linear, so the split is exact: zeroing a map removes its share."""
    x = digit()
    inside = look_inside(model, x)
    assert inside.contributions.shape == (16,)
    assert inside.contributions.sum() + inside.constant == pytest.approx(inside.score, abs=1e-4)
    with torch.no_grad():
        a2 = model.relu2(model.pool2(model.conv2(model.relu1(model.pool1(model.conv1(x[None]))))))
        tail = nn.Sequential(model.flatten, model.fc1, model.fc2, model.fc3)
        assert float(tail(torch.zeros_like(a2))[0, inside.label]) == pytest.approx(inside.constant, abs=1e-4)
        k = inside.top(1)[0][0]
        without = a2.clone()
        without[0, k] = 0
        drop = inside.score - float(tail(without)[0, inside.label])
    assert drop == pytest.approx(inside.contributions[k], abs=1e-4)


def test_top_is_largest_first_and_a_chosen_label_is_used(model):
    inside = look_inside(model, digit(), label=3)
    assert inside.label == 3
    top = inside.top(5)
    assert len(top) == 5 and [c for _, c in top] == sorted(inside.contributions, reverse=True)[:5]


def test_weights_grads_and_mode_are_left_alone(model):
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    look_inside(model, digit())
    assert model.training
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not model.conv1._forward_hooks and not model.relu2._forward_hooks


def test_lab_nets_without_relu_use_the_layer_before_conv2_and_flatten():
    torch.manual_seed(0)
    net = LabNet(activation="tanh", conv1_channels=4)
    assert stage_layers(net) == ("tanh1", "tanh2")
    inside = look_inside(net, digit())
    assert inside.conv1.shape == (4, 14, 14) and inside.conv2.shape == (16, 5, 5)
    assert (inside.conv1 < 0).any()                                     # tanh, not ReLU: negatives stay
    assert stage_layers(LabNet(activation="none")) == ("pool1", "pool2")


def test_a_model_without_the_named_layers_is_a_clear_error():
    with pytest.raises(ValueError, match="conv1, ..., conv2, ..., flatten"):
        look_inside(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), digit())
