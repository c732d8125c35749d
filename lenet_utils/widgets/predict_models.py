"""Which models the predict panel offers, and each one loaded once (again when its file changes).

The chooser lists a model passed to ``predict_panel(model=...)`` first, then the shipped checkpoint,
then every ``*.pt`` the user trained into ``data/checkpoints``.
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

SHIPPED = "shipped"            # model chooser value of the checkpoint inside the package
GIVEN = "given"                # ... of a model passed to predict_panel(model=...)


def model_options(given: bool, folder: Path | None = None) -> list[tuple[str, str]]:
    """(label, value) for the chooser: a given model, the shipped one, then ``*.pt`` in ``folder``
    (``data/checkpoints`` when None)."""
    from ..checkpoints import PRETRAINED_PATH
    from ..paths import checkpoints_dir

    options = [("the model passed to predict_panel()", GIVEN)] if given else []
    if PRETRAINED_PATH.is_file():
        options.append(("shipped LeNet-5 (lenet5_mnist.pt)", SHIPPED))
    folder = folder or checkpoints_dir()
    if folder.is_dir():
        options += [(f"yours: {p.name}", str(p)) for p in sorted(folder.glob("*.pt"))]
    return options


class ModelCache:
    """Checkpoints loaded once each, keyed by the chooser's value, reloaded when the file's mtime changes."""

    def __init__(self, given: nn.Module | None = None) -> None:
        self.given = given
        self._models: dict[str, tuple[float, nn.Module]] = {}   # value -> (file mtime, model)

    def load(self, value: str | None) -> nn.Module:
        """The model for the chooser's ``value``; ``CheckpointError`` with one line when it cannot be had."""
        from ..checkpoints import PRETRAINED_PATH, CheckpointError, load_checkpoint

        if value == GIVEN:
            return self.given
        if value is None:
            raise CheckpointError("no model available: train one with `python -m lenet_utils train`")
        path = PRETRAINED_PATH if value == SHIPPED else Path(value)
        try:
            mtime = path.stat().st_mtime
        except OSError:
            raise CheckpointError(f"{path}: the checkpoint file is gone; press the refresh button") from None
        cached = self._models.get(value)
        if cached is None or cached[0] != mtime:
            self._models[value] = (mtime, load_checkpoint(path).model)
        return self._models[value][1]
