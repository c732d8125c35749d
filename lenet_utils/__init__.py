"""lenet_utils: the package behind the LeNet-5 by hand course.

One module per responsibility:

* ``model``        LeNet5, count_parameters               the reference network, written out layer by layer
* ``config``       LeNetConfig, ConfigError               the settings a student can change, checked before building
* ``lab_net``      LabNet                                 the layer lab's network, built from a LeNetConfig
* ``summary``      layer_summary                          shapes, parameters and MACs per layer
* ``data``         load_mnist, BatchLoader, Augment       MNIST memory-mapped (one copy per machine), batched by slicing
* ``training``     TrainConfig, fit, evaluate, History    the training loop, returning a history
* ``inference``    predict_logits, predict_proba          a trained model over many images
* ``fast``         prepare, freeze, use_threads           speed beside the model: folding, frozen answers,
                                                          layout, threads
* ``checkpoints``  save_checkpoint, load_checkpoint, load_pretrained
* ``metrics``      accuracy, confusion_matrix, ...        scoring predictions
* ``plots``        show_digits, plot_history, ...         matplotlib figures (ax=None, returns axes)
* ``preprocess``   preprocess, naive_input, Limits        a photo of a digit made to look like MNIST
* ``predict``      predict_image, predict_file, example_images   the digit in an image, or an error
* ``uploads``      make_uploads, score_uploads            MNIST dressed up as real uploads, scored
* ``experiments``  train_variant, Leaderboard, VariantTable      variants on a budget, compared
* ``exercises``    check_...                              exercise checkers: a pass or a hint
* ``widgets``      predict_panel, layer_lab               ipywidgets front ends (import explicitly)
* ``doctor``       python -m lenet_utils doctor           is this machine ready? a fix per problem
* ``cli``          python -m lenet_utils ...              train | evaluate | predict | summary | data | doctor
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
