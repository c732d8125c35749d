"""lenet_utils: the package behind the LeNet-5 by hand course.

The folders are the layers. The root is the core notebooks 01-04 read: a digit goes data -> model
-> training -> inference and metrics, with checkpoints. ``fast/`` sits beside it (speed, entered at
one seam, ``fast=True``), so the code a lesson shows stays the plain PyTorch version. Above the
core: ``images/`` (a photo -> MNIST's input), ``predict/`` (one picture -> an answer),
``classroom/`` (the class's digits), ``synthetic/`` (generated data), ``lessons/`` (figures,
exercises, experiments); on top, the front ends ``widgets/`` and ``cli/``, which only arrange
calls. docs/architecture.md lists every module with its job (generated from these docstrings).

Process-wide changes. Importing the package or any module in it changes nothing outside it
(tests/test_state.py checks); these are all the changes it makes, each when first needed:

* **threads**: ``fast.use_threads`` sets ``torch.set_num_threads`` for one heavy call (``fit``,
  ``evaluate``, ``predict_logits``) and restores the count it found when the call ends.
* **warnings filters**: ``images.decoding.quiet_pillow_warnings``, at the first decode: ignore the
  ``UserWarning`` s and the ``DecompressionBombWarning`` raised by Pillow's own modules (``PIL.*``:
  corrupt EXIF, truncated metadata; our own size limits are stricter). Kept: per call it would not
  be thread-safe. Warnings from any other module still show.
* **libtiff**: ``images.decoding.quiet_libtiff``, at the first TIFF read: libtiff's error printer
  off (it writes to stderr behind Python's back; the error still reaches us). Kept for later TIFFs.
* **IPython display formatters**: ``widgets.saved_view.register_once``, when the first course panel
  is built in IPython: a saved, unexecuted notebook shows the panel's title instead of its repr.
* **oneDNN**: ``paper1998.train.plain_convolutions``, while ``train_paper`` trains on batches of at most
  ``SMALL_BATCH`` images: ``torch.backends.mkldnn.enabled`` off (PyTorch's plain convolutions are
  faster for one 32x32 image), restored to what it found when training ends.

Below: the names the lessons use most. They are imported on first use (PEP 562), not when the
package is: ``from lenet_utils import fit`` works as usual, while ``python -m lenet_utils --help``
answers at once instead of waiting seconds for PyTorch, which only the commands that compute need.
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
