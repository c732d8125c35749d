"""lenet_utils: the package behind the LeNet-5 by hand course.

A digit goes data -> model -> training -> evaluation, or preprocess -> predict; the widgets, the
command line and doctor sit on top and only arrange those calls; ``fast/`` sits beside the core, so
the code a lesson shows stays the plain PyTorch version. docs/architecture.md draws the package with
one line per module. Below: the names the lessons use most.

They are imported on first use (PEP 562), not when the package is: ``from lenet_utils import fit``
works as usual, while ``python -m lenet_utils --help`` answers at once instead of waiting seconds for
PyTorch, which only the commands that compute need.
"""

from importlib import import_module
from importlib.metadata import version as _version

__version__ = _version("lenet-utils")  # the distribution's version: stated once, in pyproject.toml

# name -> the module that defines it
_EXPORTS = {
    "checkpoints": ["Checkpoint", "CheckpointError", "load_checkpoint", "load_pretrained", "save_checkpoint"],
    "config": ["ConfigError", "LeNetConfig"],
    "data": ["MNIST_MEAN", "MNIST_STD", "Augment", "BatchLoader", "MNISTSplit", "MNISTUnavailable", "load_mnist"],
    "device": ["pick_device"],
    "inference": ["predict_logits", "predict_proba"],
    "lab_net": ["LabNet"],
    "model": ["LeNet5"],
    "summary": ["layer_summary"],
    "training": ["History", "TrainConfig", "evaluate", "fit", "set_seed"],
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    """``lenet_utils.fit`` and friends, and submodules such as ``lenet_utils.data``: imported on first use."""
    if name in _MODULE_OF:
        value = getattr(import_module(f".{_MODULE_OF[name]}", __name__), name)
        globals()[name] = value
        return value
    if not name.startswith("_"):
        try:
            return import_module(f".{name}", __name__)   # importing it also sets it as an attribute here
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{name}":          # a missing dependency inside it: say so
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
