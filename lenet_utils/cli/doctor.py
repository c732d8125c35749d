"""``python -m lenet_utils doctor``: is this machine ready for the course? Each problem comes with its fix.

Also the first cell of notebook 01, so a classroom finds a broken set-up in the first minute.
A check that itself crashes is reported as a problem, never as a traceback: the report always comes.
The report (:class:`Check`, :class:`DoctorReport`) prints as a table and shows as HTML.
"""

from __future__ import annotations

import html
import importlib.metadata as md
import importlib.util
import os
import platform
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import palette
from ..tables import html_table, text_table

__all__ = ["FAIL", "OK", "WARN", "Check", "DoctorReport", "doctor"]

# --- the report: one check per line, with its fix ------------------------------------------------
OK, WARN, FAIL = "ok", "warning", "problem"
COLORS = {OK: palette.OK, WARN: palette.WARN, FAIL: palette.ERROR}


@dataclass(frozen=True)
class Check:
    name: str
    status: str     # ok | warning | problem
    detail: str     # what was found
    fix: str = ""   # what to do about it (empty when ok)


class DoctorReport:
    """The checks in order; ``.ok`` is False when any is a problem. Prints as text, shows as HTML."""

    def __init__(self, checks: list[Check]):
        self.checks = checks

    @property
    def ok(self) -> bool:
        """No problems (warnings allowed)."""
        return all(c.status != FAIL for c in self.checks)

    @property
    def problems(self) -> list[Check]:
        return [c for c in self.checks if c.status == FAIL]

    def __getitem__(self, name: str) -> Check:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check named {name!r}; there are {', '.join(c.name for c in self.checks)}")

    def summary(self) -> str:
        problems, warnings = len(self.problems), sum(c.status == WARN for c in self.checks)
        if problems:
            return f"{problems} problem(s) to fix" + (f", {warnings} warning(s)" if warnings else "")
        return "all good: ready for the course" + (f" ({warnings} warning(s) to read)" if warnings else "")

    def __str__(self) -> str:
        rows = []
        for c in self.checks:
            rows.append((c.status, c.name, c.detail))
            if c.fix:
                rows.append(("", "", f"fix: {c.fix}"))   # under what was found, where the eye already is
        return text_table(("status", "check", "found"), rows) + "\n" + self.summary()

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows = [(c.status, c.name, c.detail, c.fix) for c in self.checks]
        table = html_table(("status", "check", "found", "fix"), rows, css="lenet-doctor", nowrap=False,
                           style=lambda row, i: f"color:{COLORS[row[0]]};font-weight:bold" if i == 0 else "")
        return table + f"<p><b>{html.escape(self.summary())}</b></p>"


# (distribution, oldest version the course is tested with, what it is for)
PACKAGES = [
    ("ipywidgets", (8, 0), "the predict panel and the layer lab"),
    ("jupyterlab", (4, 0), "the course front end"),
    ("ipykernel", (6, 0), "running notebooks"),
    ("anywidget", (0, 9), "the drawing pad"),
]


def doctor(full: bool = False) -> DoctorReport:
    """Check Python, the libraries, the device, the widget front end, MNIST and the shipped model.
    ``full`` re-hashes the MNIST files instead of trusting the record of the last check, and loads
    torchvision's compiled ops in a child process instead of checking the installed versions."""
    checks: list[Check] = []
    steps: list[tuple[str, Callable[[], Check | list[Check]]]] = [
        ("python", _python), ("torch", _torch), ("torchvision", lambda: _torchvision(full)), ("packages", _packages),
        ("device", _device), ("threads", _threads), ("widget front end", _widget_frontends),
        ("MNIST", lambda: _mnist(full)), ("shipped model", _pretrained),
    ]
    for name, step in steps:
        try:
            found = step()
        except Exception as err:  # a bug in one check must not hide the others
            found = Check(name, FAIL, f"the check itself failed ({type(err).__name__}: {err})",
                          "report this at the course's issue tracker, with this output")
        checks.extend(found if isinstance(found, list) else [found])
    return DoctorReport(checks)


def _python() -> Check:
    return Check("python", OK, f"{platform.python_version()} ({sys.executable})")


def _torch() -> Check:
    try:
        import torch
    except Exception as err:
        return Check("torch", FAIL, f"cannot import ({err})", "run `make setup` (or pip install torch)")
    return Check("torch", OK, f"{torch.__version__}, {torch.get_num_threads()} CPU threads")


# torch 2.N pairs with torchvision 0.(N+15): 2.0 with 0.15, ..., 2.14 with 0.29 (pytorch/vision's table),
# and both come from the same build (the same "+cu130" / "+cpu" suffix).
_VISION_OFFSET = 15
# ``full`` also loads torchvision's compiled ops, in a child process: that costs ~570 MB for a few
# seconds (a second PyTorch), too much to do in every student's notebook 01 at once: in a class
# working in step it was the moment of peak memory (benchmarks/classroom.py).
_TORCHVISION_PROBE = ("import torch, torchvision; from torchvision.ops import nms; "
                      "nms(torch.zeros(1, 4), torch.zeros(1), 0.5); print(torchvision.__version__)")


def _torchvision(full: bool = False) -> Check:
    fix = _torch_pair_fix()
    try:
        torch_version, vision = _builds()
    except (ImportError, OSError):
        return Check("torchvision", FAIL, "not installed", fix)
    t_major, t_minor = (*_version_tuple(torch_version), 0, 0)[:2]
    v_major, v_minor = (*_version_tuple(vision), 0, 0)[:2]
    suffix = (torch_version.partition("+")[2], vision.partition("+")[2])
    if (t_major, v_major, v_minor) != (2, 0, t_minor + _VISION_OFFSET) or suffix[0] != suffix[1]:
        return Check("torchvision", FAIL, f"{vision} does not match torch {torch_version}", fix)
    if not full:
        return Check("torchvision", OK, f"{vision}, matches torch")
    import subprocess

    try:
        done = subprocess.run([sys.executable, "-c", _TORCHVISION_PROBE], capture_output=True, text=True,
                              timeout=120)
    except (OSError, subprocess.TimeoutExpired) as err:
        return Check("torchvision", FAIL, f"could not be checked ({type(err).__name__})", fix)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        return Check("torchvision", FAIL, f"broken ({(lines or ['no output'])[-1][:100]})", fix)
    return Check("torchvision", OK, f"{done.stdout.strip()}, matches torch, its compiled ops load")


def _torch_pair_fix() -> str:
    """How to install the tested torch pair: the pins of constraints.txt (the one place they are
    stated) when this is a course checkout, else the rule they follow."""
    from ..paths import repo_root

    root = repo_root()
    try:
        lines = (root / "constraints.txt").read_text().splitlines() if root is not None else []
    except OSError:
        lines = []
    pair = [line.strip() for line in lines if line.startswith(("torch==", "torchvision=="))]
    if len(pair) == 2:
        return f"install the matching pair: pip install {' '.join(pair)} (constraints.txt, or make setup)"
    return "install the matching pair: torch 2.N with torchvision 0.(N+15), both from the same build"


def _builds() -> tuple[str, str]:
    """torch's and torchvision's versions as their builds state them, e.g. ``"2.14.1+cu130"`` (the
    package metadata drops the ``+cu130``); torchvision's is read from its ``version.py``, not imported."""
    import torch

    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("torchvision")
    text = (Path(next(iter(spec.submodule_search_locations))) / "version.py").read_text()
    found = re.search(r"^__version__ = ['\"]([^'\"]+)['\"]", text, re.M)
    return torch.__version__, found.group(1) if found else md.version("torchvision")


def _packages() -> list[Check]:
    checks = []
    for dist, oldest, why in PACKAGES:
        if dist == "jupyterlab" and _hosted_frontend():
            checks.append(Check(dist, OK, f"not needed here: {_hosted_frontend()} provides the front end"))
            continue
        try:
            version = md.version(dist)
        except md.PackageNotFoundError:
            checks.append(Check(dist, FAIL, f"not installed (needed for {why})",
                                f"run `make setup` (or pip install '{dist}>={'.'.join(map(str, oldest))}')"))
            continue
        if _version_tuple(version) < oldest:
            want = ".".join(map(str, oldest))
            checks.append(Check(dist, FAIL, f"{version} is too old (the course needs {want} or newer for {why})",
                                f"pip install -U '{dist}>={want}' (make setup does it), then restart JupyterLab"))
        else:
            checks.append(Check(dist, OK, version))
    return checks


def _device() -> Check:
    try:
        from ..device import pick_device

        device = pick_device()
    except Exception as err:
        return Check("device", FAIL, str(err), "reinstall torch")
    if device.type == "cpu":
        return Check("device", OK, "cpu (no CUDA or MPS found; the course is sized for a laptop CPU)")
    return Check("device", OK, f"{device.type} (training uses it automatically)")


def _threads() -> Check:
    """The thread policy's decision for the next training run (``fast/threads.py``), and its reason."""
    from ..fast.threads import decide_threads

    decision = decide_threads()
    if decision.source == "policy" and decision.others >= 0.5:
        return Check("threads", WARN, f"{decision}: this machine is busy, so training and evaluation use "
                     f"{decision.threads} of {decision.cpus} CPUs and avoid fighting the other programs for them",
                     "nothing to fix; expect slower training than on a quiet machine (close other programs, "
                     "or pass threads=N to fit to choose yourself)")
    return Check("threads", OK, str(decision))


def _widget_frontends() -> list[Check]:
    """The JavaScript halves of ipywidgets and anywidget must be installed where JupyterLab looks,
    in a version that speaks to the Python half (ipywidgets 8 pairs with jupyterlab_widgets 3)."""
    host = _hosted_frontend()
    if host == "Colab":
        return [Check("widget front end", WARN, "Colab renders ipywidgets itself; the drawing pad (anywidget) "
                      "needs its custom widget manager",
                      "run `from google.colab import output; output.enable_custom_widget_manager()` once per session")]
    checks = []
    for label, ext, dist in [("widget front end", "@jupyter-widgets/jupyterlab-manager", "jupyterlab_widgets"),
                             ("anywidget front end", "anywidget", "anywidget")]:
        found = _find_labextension(ext)
        if not found:
            checks.append(Check(label, FAIL, f"JupyterLab extension {ext} not found: widgets would show as text "
                                "such as 'VBox(children=...)'",
                                f"pip install {dist} in the environment that runs JupyterLab, then restart it"))
            continue
        where = found.parent.parent if "/" in ext else found.parent
        if dist == "jupyterlab_widgets":
            mismatch = _widgets_mismatch()
            if mismatch:
                checks.append(Check(label, FAIL, f"{ext} in {where}, but {mismatch}",
                                    "pip install -U 'ipywidgets>=8' 'jupyterlab_widgets>=3' in one environment, "
                                    "then restart JupyterLab"))
                continue
        checks.append(Check(label, OK, f"{ext} in {where}"))
    return checks


def _widgets_mismatch() -> str:
    """Text describing a Python/JavaScript widgets version clash, or "" when they match."""
    try:
        py, js = md.version("ipywidgets"), md.version("jupyterlab_widgets")
    except md.PackageNotFoundError:
        return ""
    pairs = {7: 1, 8: 3}  # ipywidgets major -> jupyterlab_widgets major
    want = pairs.get(_version_tuple(py)[0])
    if want is not None and _version_tuple(js)[0] != want:
        return (f"ipywidgets {py} needs jupyterlab_widgets {want}.x and {js} is installed: "
                "widgets would fail with 'Error displaying widget'")
    return ""


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


def _hosted_frontend() -> str:
    """"Colab" when running there (it brings its own front end and widget manager), else ""."""
    if "google.colab" in sys.modules or os.environ.get("COLAB_RELEASE_TAG"):
        return "Colab"
    return ""


def _mnist(full: bool = False) -> Check:
    from ..mnist_files import ENV_VAR, MNIST_MD5, already_verified
    from ..paths import data_root

    raw = data_root() / "MNIST" / "raw"
    if already_verified(raw, MNIST_MD5, full=full):
        return Check("MNIST", OK, f"ready in {raw}" + (" (every file re-hashed)" if full else ""))
    if full and all((raw / n).is_file() for n in MNIST_MD5):
        return Check("MNIST", FAIL, f"a file in {raw} does not match its published MD5",
                     "run `python -m lenet_utils data` to copy or download it again")
    source = os.environ.get(ENV_VAR, "").strip()
    if source:
        folder = Path(source).expanduser()
        if not folder.is_dir():
            return Check("MNIST", FAIL, f"{ENV_VAR}={folder} is not a folder",
                         f"point {ENV_VAR} at the folder holding {', '.join(MNIST_MD5)} (.gz or not), or unset it")
        names = [n for n in MNIST_MD5 if (folder / n).is_file() or (folder / f"{n}.gz").is_file()
                 or (folder / "MNIST" / "raw" / n).is_file() or (folder / "MNIST" / "raw" / f"{n}.gz").is_file()]
        if len(names) < len(MNIST_MD5):
            missing = [n for n in MNIST_MD5 if n not in names]
            return Check("MNIST", FAIL, f"{ENV_VAR}={folder} lacks {', '.join(missing)}",
                         f"point {ENV_VAR} at a folder holding {', '.join(MNIST_MD5)} (.gz or not)")
        unwritable = _unwritable(raw)
        if unwritable:
            return Check("MNIST", FAIL, f"offline copy in {ENV_VAR}={folder}, but {unwritable}",
                         "set LENET_DATA_DIR to a folder you can write (e.g. ~/lenet-data)")
        return Check("MNIST", OK, f"offline copy in {ENV_VAR}={folder}; checked and copied into {raw} on first use")
    if all((raw / n).is_file() for n in MNIST_MD5):
        return Check("MNIST", OK, f"in {raw} (checksums checked on first use)")
    unwritable = _unwritable(raw)
    if unwritable:
        return Check("MNIST", FAIL, f"not downloaded, and {unwritable}",
                     "set LENET_DATA_DIR to a folder you can write, or LENET_MNIST_DIR to a shared copy")
    return Check("MNIST", WARN, f"not downloaded yet (into {raw})",
                 f"it downloads on first use; offline (or in a classroom), set {ENV_VAR} to a folder with the four "
                 "IDX files, or run `python -m lenet_utils data` while online")


def _unwritable(folder: Path) -> str:
    """Why MNIST could not be written under ``folder`` ("" when it can)."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent  # the nearest folder that exists is where mkdir would start
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError:  # read-only, no permission, or a file where a folder should be
        return f"cannot create files in {probe} (MNIST goes into {folder})"
    return ""


def _pretrained() -> Check:
    try:
        from ..checkpoints import pretrained_checkpoint

        ckpt = pretrained_checkpoint()
    except Exception as err:
        return Check("shipped model", FAIL, str(err),
                     "it ships with the course: update the clone (git pull), then pip install -e . in it")
    acc = ckpt.metrics.get("test_acc")
    return Check("shipped model", OK, f"{ckpt.path.name}" + (f", {acc:.2%} test accuracy" if acc else ""))


def _version_tuple(version: str) -> tuple[int, ...]:
    """``"8.1.9"`` -> ``(8, 1, 9)``; ``"1.0rc1"`` -> ``(1, 0)``: the leading release numbers only."""
    parts = []
    for piece in version.split("+")[0].split("."):
        digits = re.match(r"\d+", piece)
        if digits is None:
            break
        parts.append(int(digits.group()))
        if digits.end() < len(piece):  # "0rc1": a pre-release; stop at its number
            break
    return tuple(parts) or (0,)
