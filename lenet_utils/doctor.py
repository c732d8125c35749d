"""``python -m lenet_utils doctor``: is this machine ready for the course? Each problem comes with its fix.

Also the first cell of notebook 01, so a classroom finds a broken set-up in the first minute.
"""

from __future__ import annotations

import html
import importlib.metadata as md
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

OK, WARN, FAIL = "ok", "warning", "problem"


@dataclass(frozen=True)
class Check:
    name: str
    status: str     # ok | warning | problem
    detail: str     # what was found
    fix: str = ""   # what to do about it (empty when ok)


class DoctorReport:
    def __init__(self, checks: list[Check]):
        self.checks = checks

    @property
    def ok(self) -> bool:
        """No problems (warnings allowed)."""
        return all(c.status != FAIL for c in self.checks)

    def __str__(self) -> str:
        width = max(len(c.name) for c in self.checks)
        mark = {OK: "ok  ", WARN: "warn", FAIL: "FAIL"}
        lines = []
        for c in self.checks:
            lines.append(f"[{mark[c.status]}] {c.name.ljust(width)}  {c.detail}")
            if c.fix:
                lines.append(f"       {''.ljust(width)}  fix: {c.fix}")
        problems = sum(c.status == FAIL for c in self.checks)
        lines.append("all good: ready for the course" if problems == 0 else f"{problems} problem(s) to fix")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        color = {OK: "#2e7d32", WARN: "#ef6c00", FAIL: "#c62828"}
        rows = "".join(
            f"<tr><td style='color:{color[c.status]};font-weight:bold'>{c.status}</td>"
            f"<td>{html.escape(c.name)}</td><td>{html.escape(c.detail)}</td>"
            f"<td>{html.escape(c.fix)}</td></tr>"
            for c in self.checks
        )
        return ("<table><thead><tr><th>status</th><th>check</th><th>found</th><th>fix</th></tr></thead>"
                f"<tbody>{rows}</tbody></table>")


def doctor() -> DoctorReport:
    """Check Python, the libraries, the device, the widget front end, MNIST and the shipped model."""
    return DoctorReport([_python(), _torch(), _torchvision(), *_packages(), _device(), *_widget_frontends(),
                         _mnist(), _pretrained()])


def _python() -> Check:
    version = platform.python_version()
    if sys.version_info < (3, 10):
        return Check("python", FAIL, version, "use Python 3.10 or newer (make setup PYTHON=python3.11)")
    return Check("python", OK, f"{version} ({sys.executable})")


def _torch() -> Check:
    try:
        import torch
    except Exception as err:
        return Check("torch", FAIL, f"cannot import ({err})", "run `make setup` (or pip install torch)")
    return Check("torch", OK, f"{torch.__version__}, {torch.get_num_threads()} CPU threads")


def _torchvision() -> Check:
    try:
        import torch
        import torchvision
        from torchvision.ops import nms  # compiled ops: fails when torch and torchvision do not match

        nms(torch.zeros(1, 4), torch.zeros(1), 0.5)
    except Exception as err:
        return Check("torchvision", FAIL, f"broken ({str(err).splitlines()[0][:100]})",
                     "install the matching pair: pip install torch==2.14.1 torchvision==0.29.1 (see constraints.txt)")
    return Check("torchvision", OK, f"{torchvision.__version__}, matches torch")


def _packages() -> list[Check]:
    checks = []
    for dist, why in [("ipywidgets", "the predict panel and the layer lab"),
                      ("jupyterlab", "the course front end"),
                      ("anywidget", "the drawing pad")]:
        try:
            checks.append(Check(dist, OK, md.version(dist)))
        except md.PackageNotFoundError:
            checks.append(Check(dist, FAIL, f"not installed (needed for {why})", f"run `make setup` (or pip install {dist})"))
    return checks


def _device() -> Check:
    try:
        from .device import pick_device

        device = pick_device()
    except Exception as err:
        return Check("device", FAIL, str(err), "reinstall torch")
    if device.type == "cpu":
        return Check("device", OK, "cpu (no CUDA or MPS found; the course is sized for a laptop CPU)")
    return Check("device", OK, f"{device.type} (training uses it automatically)")


def _widget_frontends() -> list[Check]:
    """The JavaScript halves of ipywidgets and anywidget must be installed where JupyterLab looks."""
    checks = []
    for label, ext in [("widget front end", "@jupyter-widgets/jupyterlab-manager"), ("anywidget front end", "anywidget")]:
        found = _find_labextension(ext)
        if found:
            checks.append(Check(label, OK, f"{ext} in {found.parent.parent if '/' in ext else found.parent}"))
        else:
            dist = "jupyterlab_widgets" if "jupyter-widgets" in ext else "anywidget"
            checks.append(Check(label, FAIL, f"JupyterLab extension {ext} not found: widgets would show as text",
                                f"pip install {dist} in the environment that runs JupyterLab, then restart it"))
    return checks


def _find_labextension(name: str) -> Path | None:
    try:
        from jupyter_core.paths import jupyter_path

        dirs = jupyter_path("labextensions")
    except Exception:
        dirs = [os.path.join(sys.prefix, "share", "jupyter", "labextensions")]
    for base in dirs:
        path = Path(base) / name
        if (path / "package.json").is_file():
            return path
    return None


def _mnist() -> Check:
    from .data import ENV_VAR, MNIST_MD5, _already_verified
    from .paths import data_root

    raw = data_root() / "MNIST" / "raw"
    if _already_verified(raw, MNIST_MD5):
        return Check("MNIST", OK, f"ready in {raw}")
    source = os.environ.get(ENV_VAR, "").strip()
    if source:
        folder = Path(source).expanduser()
        names = [n for n in MNIST_MD5 if (folder / n).is_file() or (folder / f"{n}.gz").is_file()]
        if len(names) == len(MNIST_MD5):
            return Check("MNIST", OK, f"offline copy in {ENV_VAR}={folder}; copied into {raw} on first use")
        return Check("MNIST", FAIL, f"{ENV_VAR}={folder} lacks {len(MNIST_MD5) - len(names)} of the 4 IDX files",
                     f"point {ENV_VAR} at a folder holding {', '.join(MNIST_MD5)} (.gz or not)")
    return Check("MNIST", WARN, f"not downloaded yet (into {raw})",
                 f"it downloads on first use; offline, set {ENV_VAR} to a folder with the four IDX files, "
                 "or run `python -m lenet_utils data` while online")


def _pretrained() -> Check:
    try:
        from .checkpoints import pretrained_checkpoint

        ckpt = pretrained_checkpoint()
    except Exception as err:
        return Check("shipped model", FAIL, str(err), "reinstall lenet-utils (pip install -e .)")
    acc = ckpt.metrics.get("test_acc")
    return Check("shipped model", OK, f"{ckpt.path.name}" + (f", {acc:.2%} test accuracy" if acc else ""))
