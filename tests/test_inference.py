import pytest
import torch

from lenet_utils.fast import freeze
from lenet_utils.fast.layout import channels_last
from lenet_utils.inference import predict_logits, predict_proba
from lenet_utils.lab_net import LabNet
from lenet_utils.model import LeNet5


def test_batched_logits_do_not_depend_on_the_batch_size():
    torch.manual_seed(0)
    model = LeNet5()
    x = torch.randn(37, 1, 28, 28)
    a = predict_logits(model, x, batch_size=5)
    b = predict_logits(model, x, batch_size=64)
    assert a.shape == (37, 10)
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert model.training  # mode restored
    with torch.no_grad():
        torch.testing.assert_close(predict_logits(model, x, fast=False), model.eval()(x))


def test_probabilities_sum_to_one_and_empty_input():
    probs = predict_proba(LeNet5(), torch.randn(3, 1, 28, 28))
    torch.testing.assert_close(probs.sum(1), torch.ones(3))
    assert predict_logits(LeNet5(), torch.empty(0, 1, 28, 28)).shape == (0, 10)


def test_single_image_path_matches_the_batch_path():
    torch.manual_seed(0)
    model = LeNet5().eval()
    x = torch.randn(4, 1, 28, 28)
    batch = predict_logits(model, x)
    for i in range(4):
        torch.testing.assert_close(freeze(model)(x[i]), batch[i:i + 1], rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(freeze(model)(x[i:i + 1]), batch[i:i + 1], rtol=1e-4, atol=1e-5)


def test_single_image_runs_in_numpy_when_it_can_and_in_pytorch_otherwise():
    torch.manual_seed(0)
    x = torch.randn(1, 28, 28)
    for overrides, numpy_form in [({}, True), ({"pool": "max"}, False)]:
        model = LabNet(**overrides).eval()
        assert (freeze(model).one_image is not None) == numpy_form
        logits = freeze(model)(x)
        assert logits.shape == (1, 10) and logits.dtype == torch.float32
        with torch.no_grad():
            torch.testing.assert_close(logits, model(x[None]), rtol=1e-4, atol=1e-5)


class _Broken(torch.nn.Module):
    """A model whose forward fails halfway, to check the settings come back anyway."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x):
        # nothing process-wide is switched for one image (issue 16): the caller's settings hold
        assert (torch.get_num_threads(), torch.backends.mkldnn.enabled) == self.settings
        raise RuntimeError("boom")


def test_single_image_settings_are_left_alone_even_on_error():
    threads, onednn = torch.get_num_threads(), torch.backends.mkldnn.enabled
    model = LeNet5().train()
    freeze(model)(torch.randn(1, 28, 28))
    assert (torch.get_num_threads(), torch.backends.mkldnn.enabled, model.training) == (threads, onednn, True)

    broken = _Broken().train()
    broken.settings = (threads, onednn)
    with pytest.raises(RuntimeError, match="boom"):
        freeze(broken)(torch.randn(1, 28, 28))
    assert (torch.get_num_threads(), torch.backends.mkldnn.enabled, broken.training) == (threads, onednn, True)


def test_channels_last_changes_only_the_memory_order():
    x = torch.randn(3, 6, 14, 14)
    y = channels_last(x)
    assert y.shape == x.shape and torch.equal(y, x)
    assert y.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous(memory_format=torch.channels_last)
    flat = torch.randn(3, 10)
    assert channels_last(flat) is flat  # not a batch of images: untouched


def test_single_image_path_follows_every_change_to_the_weights():
    """freeze keeps a folded copy of the model; any change to a weight must reach it, and no
    change must cost a rebuild."""
    torch.manual_seed(1)
    model = LeNet5().eval()
    x = torch.randn(1, 28, 28)

    def check():
        with torch.no_grad():
            torch.testing.assert_close(freeze(model)(x), model(x[None]), rtol=1e-4, atol=1e-5)

    check()
    assert freeze(model) is freeze(model)                   # unchanged weights: the same snapshot
    with torch.no_grad():                                   # an in-place edit
        model.conv1.weight[0].zero_()
    check()
    model.fc1.weight.data.mul_(2.0)                         # a write that bypasses autograd
    check()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)  # a training step
    torch.nn.functional.cross_entropy(model(torch.randn(8, 1, 28, 28)), torch.randint(0, 10, (8,))).backward()
    optimizer.step()
    check()
    other = LeNet5()                                         # new weights loaded
    model.load_state_dict(other.state_dict())
    check()
    model.fc3.bias = torch.nn.Parameter(torch.full((10,), 3.0))  # a parameter replaced
    check()
