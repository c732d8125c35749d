"""The layer lab's BatchNorm option (issue 29): the modern contrast to 1998's network, off by default."""

import pytest
import torch
from toydata import separable

from lenet_utils.cli.commands import _parse_value
from lenet_utils.config import ConfigError, LeNetConfig
from lenet_utils.lab_net import LabNet
from lenet_utils.model import count_parameters
from lenet_utils.summary import layer_summary
from lenet_utils.training import TrainConfig, fit, set_seed


def test_the_reference_has_no_batchnorm_and_the_option_adds_one_after_each_convolution():
    assert not LeNetConfig().batchnorm and count_parameters(LabNet()) == 61_706
    net = LabNet(batchnorm=True)
    names = [name for name, _ in net.named_children()]
    assert names[:5] == ["conv1", "bn1", "pool1", "relu1", "conv2"] and names[5] == "bn2"
    assert isinstance(net.bn1, torch.nn.BatchNorm2d) and net.bn1.num_features == 6 and net.bn2.num_features == 16
    # a scale and a shift per channel: 2 x (6 + 16) = 44 more parameters, counted alike everywhere
    assert count_parameters(net) == 61_750 == LeNetConfig(batchnorm=True).cost()["parameters"]
    summary = layer_summary(LeNetConfig(batchnorm=True))
    assert summary.total_params == 61_750 and summary.total_macs == layer_summary(LeNetConfig()).total_macs
    assert LeNetConfig(batchnorm=True).describe_changes() == "batchnorm=True"


def test_in_eval_mode_an_answer_does_not_depend_on_the_rest_of_the_batch():
    """Training normalises with the batch's statistics; evaluation with the running ones."""
    set_seed(0)
    net = LabNet(batchnorm=True)
    x = separable(64).images[:]
    net.train()
    alone, together = net(x[:1]), net(x)[:1]
    assert not torch.allclose(alone, together)           # training mode: the batch changes the answer
    net.eval()
    torch.testing.assert_close(net(x[:1]), net(x)[:1])   # eval: running statistics only


def test_a_batchnorm_network_trains_through_fit_fast_or_not():
    for fast in (True, False):
        set_seed(0)
        net = LabNet(batchnorm=True)
        history = fit(net, separable(256), separable(64, seed=1), TrainConfig(epochs=3, batch_size=32),
                      progress=False, device="cpu", fast=fast)
        assert history.final.val_acc > 0.9, (fast, history.column("val_acc"))
        assert net.bn1.num_batches_tracked.item() == 3 * 8           # statistics updated at every step


def test_a_bad_value_is_refused_by_name():
    with pytest.raises(ConfigError, match="batchnorm.*True or False"):
        LeNetConfig(batchnorm="yes")
    assert _parse_value("batchnorm", "true") is True and _parse_value("batchnorm", "0") is False
    with pytest.raises(Exception, match="batchnorm='maybe': expected true or false"):
        _parse_value("batchnorm", "maybe")
