"""lenet_utils: the package behind the LeNet-5 by hand course.

A digit goes data -> model -> training -> evaluation, or preprocess -> predict; the widgets, the
command line and doctor sit on top and only arrange those calls; ``fast/`` sits beside the core, so
the code a lesson shows stays the plain PyTorch version. docs/architecture.md draws the package with
one line per module. Below: the names the lessons use most.
"""

from importlib.metadata import version as _version

__version__ = _version("lenet-utils")  # the distribution's version: stated once, in pyproject.toml

from .checkpoints import Checkpoint, CheckpointError, load_checkpoint, load_pretrained, save_checkpoint
from .config import ConfigError, LeNetConfig
from .data import MNIST_MEAN, MNIST_STD, Augment, BatchLoader, MNISTSplit, MNISTUnavailable, load_mnist
from .device import pick_device
from .inference import predict_logits, predict_proba
from .lab_net import LabNet
from .model import LeNet5
from .summary import layer_summary
from .training import History, TrainConfig, evaluate, fit, set_seed

__all__ = [
    "Augment", "BatchLoader", "Checkpoint", "CheckpointError", "ConfigError", "History", "LabNet", "LeNet5",
    "LeNetConfig", "MNISTSplit", "MNISTUnavailable", "MNIST_MEAN", "MNIST_STD", "TrainConfig", "evaluate",
    "fit", "layer_summary", "load_checkpoint", "load_mnist", "load_pretrained", "pick_device",
    "predict_logits", "predict_proba", "save_checkpoint", "set_seed",
]
