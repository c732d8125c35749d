"""The course panels' fallback output: a saved notebook opened untrusted shows a title, never a repr."""

from __future__ import annotations

from IPython.core.formatters import DisplayFormatter

from lenet_utils.widgets import predict_panel
from lenet_utils.widgets.saved_view import HOW, PANELS, register


class Shell:
    def __init__(self):
        self.display_formatter = DisplayFormatter()


def test_the_panel_shows_its_title_where_it_cannot_be_drawn(tmp_path):
    shell = Shell()
    assert register(shell)
    panel = predict_panel(checkpoints=tmp_path)
    data, _ = shell.display_formatter.format(panel)
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.model_id   # still the live widget
    assert "PredictPanel(children=" not in data["text/plain"] and HOW in data["text/plain"]
    assert "What digit is this? Ask LeNet-5" in data["text/html"] and "lenet-saved-panel" in data["text/html"]


def test_every_course_panel_is_named_by_its_real_module():
    import importlib

    for module, name in PANELS:
        assert isinstance(getattr(importlib.import_module(module), name), type), (module, name)


def test_without_ipython_nothing_is_registered():
    assert register() is False          # pytest runs outside IPython
    assert register(object()) is False  # Solara's stand-in shell has no display formatter
