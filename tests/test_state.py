"""Process-wide state: importing the package changes nothing; each change it makes is listed in its docstring,
made when first needed, and restored or confined where it can be."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import warnings

import lenet_utils

IMPORT_EVERYTHING = r"""
import json, pkgutil, sys, warnings, importlib
import torch
before = {"filters": [repr(f) for f in warnings.filters], "threads": torch.get_num_threads()}
import lenet_utils
names = [m.name for m in pkgutil.walk_packages(lenet_utils.__path__, "lenet_utils.") if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
after = {"filters": [repr(f) for f in warnings.filters], "threads": torch.get_num_threads()}
print(json.dumps({"before": before, "after": after, "modules": len(names)}))
"""


def test_importing_every_module_changes_no_process_state():
    done = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["modules"] > 60
    assert result["after"] == result["before"]


def test_the_docstring_lists_every_change():
    doc = lenet_utils.__doc__
    for change in ("use_threads", "quiet_pillow_warnings", "quiet_libtiff", "register_once",
                   "plain_convolutions"):
        assert change in doc, change


def test_the_warnings_filters_come_with_the_first_decode_and_stay_confined_to_pillow():
    from PIL import Image

    from lenet_utils.images import decoding

    buf = io.BytesIO()
    Image.new("L", (8, 8), 255).save(buf, "PNG")
    with warnings.catch_warnings():                     # the test's own copy of the filters, restored after
        decoding._warnings_quiet = False
        before = list(warnings.filters)
        decoding.decode(buf.getvalue(), "blank.png")
        added = [f for f in warnings.filters if f not in before]
        assert added and all(f[0] == "ignore" and f[3] is not None and f[3].pattern == r"PIL\." for f in added)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("default")
            warnings.filters[:0] = added                # the package's filters first, as they are in use
            warnings.warn("a student's own warning", UserWarning, stacklevel=1)
        assert [str(w.message) for w in seen] == ["a student's own warning"]   # not swallowed


def test_use_threads_restores_the_count_it_found():
    import torch

    from lenet_utils.fast import use_threads

    found = torch.get_num_threads()
    with use_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == found


def test_plain_convolutions_restores_onednn_even_after_an_error():
    import pytest
    import torch

    from lenet_utils.paper1998.train import plain_convolutions

    found = torch.backends.mkldnn.enabled
    with pytest.raises(RuntimeError), plain_convolutions(True):
        assert torch.backends.mkldnn.enabled is False
        raise RuntimeError("a failed training step")
    assert torch.backends.mkldnn.enabled == found
    with plain_convolutions(False):                  # batches above SMALL_BATCH: left as found
        assert torch.backends.mkldnn.enabled == found


def test_panels_register_their_saved_view_when_built_not_when_imported():
    from lenet_utils.widgets import saved_view

    class Formatter:
        def __init__(self):
            self.types = []

        def for_type_by_name(self, module, name, func):
            self.types.append(name)

    class Shell:
        display_formatter = type("D", (), {"mimebundle_formatter": Formatter()})()

    shell = Shell()
    import IPython

    real = IPython.get_ipython
    IPython.get_ipython = lambda: shell
    try:
        import lenet_utils.widgets  # noqa: F401  (importing registers nothing)
        assert shell.display_formatter.mimebundle_formatter.types == []
        saved_view.register_once()
        saved_view.register_once()                       # once per formatter
        assert sorted(shell.display_formatter.mimebundle_formatter.types) == ["ClassDashboard", "LayerLab",
                                                                              "PredictPanel"]
    finally:
        IPython.get_ipython = real
