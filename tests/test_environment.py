"""The set-up files agree with each other: pyproject.toml, environment.yml, constraints.txt, Makefile."""

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import tomllib
import yaml

REPO = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"torch": "pytorch"}  # conda-forge spells a few packages differently


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def _pyproject():
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def _requirements(*extras: str) -> list[str]:
    """The runtime dependencies and those of ``extras``, an extra that names others (dev) expanded."""
    project, found = _pyproject(), []
    for req in project["dependencies"] + [r for e in extras for r in project["optional-dependencies"][e]]:
        if _name(req) == "lenet-utils":
            found += _requirements(*req.split("[")[1].rstrip("]").split(","))
        else:
            found.append(req)
    return found


def test_the_extras_are_by_audience_and_dev_has_them_all():
    extras = _pyproject()["optional-dependencies"]
    assert set(extras) == {"course", "hub", "app", "teach", "dev"}
    every = {_name(r) for e in ("course", "hub", "app", "teach") for r in _requirements(e)}
    assert every <= {_name(r) for r in _requirements("dev")}
    course = {_name(r) for r in _requirements("course")}
    assert not course & {"jupyterhub", "playwright", "voila", "solara", "ruff", "pytest", "nbgrader",
                         "otter-grader"}   # a student's install


def test_make_lab_installs_the_course_alone_and_needs_no_npm():
    makefile = (REPO / "Makefile").read_text()
    recipe = re.search(r"^\$\(COURSE_STAMP\):.*?(?=^\S)", makefile, re.M | re.S).group(0)
    assert '-e ".[course]"' in recipe and "npm" not in recipe and "solara_offline" not in recipe
    lab = re.search(r"^lab: (.*)$", makefile, re.M).group(1)
    assert lab.split() == ["course"] and re.search(r"^course: \$\(COURSE_STAMP\)$", makefile, re.M)
    full = re.search(r"^\$\(STAMP\):.*?(?=^\S)", makefile, re.M | re.S).group(0)
    assert '-e ".[dev]"' in full                                  # make test still installs everything


def test_the_version_is_stated_once_in_pyproject():
    """``lenet_utils.__version__`` is the installed distribution's, and pyproject.toml states it."""
    import lenet_utils

    assert lenet_utils.__version__ == _pyproject()["version"]
    assert not re.search(r"__version__\s*=\s*[\"']", (REPO / "lenet_utils" / "__init__.py").read_text())


def test_every_subpackage_is_packaged():
    """setuptools finds the subpackages itself, so a new one (experiments/, fast/) is never left out."""
    from setuptools import find_packages

    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    listed = set(find_packages(str(REPO), include=packages["find"]["include"])) if "find" in packages else set(packages)
    found = {".".join(p.relative_to(REPO).parent.parts) for p in (REPO / "lenet_utils").rglob("__init__.py")}
    assert listed == found and "lenet_utils.lessons.experiments" in found


def test_environment_yml_has_the_same_packages_as_pyproject():
    wanted = {_name(r) for r in _requirements("course")}      # conda's default is the student's install
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    # plus the single-user server an image built from this file runs (Binder, Zero to JupyterHub), pinned
    # to the chart's hub by tests/test_z2jh_image.py
    assert conda == {CONDA_NAMES.get(n, n) for n in wanted} | {"jupyterhub"}
    # the package itself comes from ./postBuild, after repo2docker has copied the repository
    assert not any(isinstance(d, dict) for d in env["dependencies"])
    assert "pip install --no-cache-dir --no-deps -e ." in (REPO / "postBuild").read_text()


def test_environment_yml_versions_match_pyproject_minimums():
    minimums = {_name(r): r.split(">=")[1].split(",")[0].strip() for r in _requirements("dev") if ">=" in r}
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    for dep in env["dependencies"]:
        if isinstance(dep, str) and ">=" in dep:
            name = _name(dep)
            original = {v: k for k, v in CONDA_NAMES.items()}.get(name, name)
            assert dep.split(">=")[1] == minimums[original], dep


def test_constraints_pin_every_dependency_and_the_working_torch_pair():
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[_name(name)] = version
    for req in _requirements("dev"):
        assert _name(req) in pins, f"{req} is not pinned in constraints.txt"
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"


def test_makefile_and_ci_give_the_two_commands():
    makefile = (REPO / "Makefile").read_text()
    for target in ("setup:", "lab:", "test:", "browser:"):
        assert re.search(rf"^{target}", makefile, re.M), target
    assert "-c constraints.txt" in makefile and ".venv" in makefile
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci and "LENET_MNIST_DIR" in ci
    readme = (REPO / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme


@pytest.mark.slow
def test_make_lab_serves_jupyterlab_on_the_notebooks(tmp_path):
    """The README's first command, for real: ``make lab`` starts JupyterLab on notebooks/."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(8)
    args = f"--no-browser --ip=127.0.0.1 --port={port} --ServerApp.port_retries=0 --IdentityProvider.token={token}"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"))
    log = tmp_path / "lab.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(["make", "--no-print-directory", "lab", f"LAB_ARGS={args}"], cwd=REPO, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    try:
        names, deadline = None, time.monotonic() + 120
        while names is None and time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token={token}", timeout=5) as r:
                    names = {item["name"] for item in json.load(r)["content"]}
            except OSError:
                time.sleep(0.5)
        assert names is not None, f"make lab did not serve JupyterLab:\n{log.read_text()[-3000:]}"
        assert {"01_mnist_data.ipynb", "01_mnist_data.solutions.ipynb", "06_layer_lab.ipynb"} <= names
        assert "solutions" not in names  # no folder listed before the lessons
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=10) as r:
            assert r.status == 200 and b"JupyterLab" in r.read()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
