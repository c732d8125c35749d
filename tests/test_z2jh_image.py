"""The course image for Zero to JupyterHub: its build context and the build command, offline.

No image is built here (no Docker on this machine): the tests compute the build context that
``jupyter-repo2docker`` would send, with hub/z2jh/build_context.py (the .dockerignore rules of
docker-py, which repo2docker calls), over a copy of the repository *with* the folders that must
never ship present (a virtualenv, .git, the hub's state with its secrets, MNIST, build output,
node_modules, keys); and they check the build command and the image's JupyterHub against the
chart's. What needs Docker and a registry: that repo2docker builds the image from this context,
and that pods can pull it.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
import z2jh_chart  # tests/z2jh_chart.py
from packaging.specifiers import SpecifierSet

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("build_context", REPO / "hub" / "z2jh" / "build_context.py")
build_context = importlib.util.module_from_spec(_spec)
sys.modules["build_context"] = build_context   # its @dataclass looks itself up there
_spec.loader.exec_module(build_context)

# What a lecturer's checkout holds after `make setup`, `make hub`, `make test` and a download:
NEVER_IN_THE_IMAGE = [
    ".venv/bin/python", ".venv/lib/python3.11/site-packages/torch/lib/libtorch_cpu.so",
    ".lock-venv/lock", ".git/config", ".git/objects/pack/pack-1.pack",
    "hub/state/jupyterhub.sqlite", "hub/state/jupyterhub_cookie_secret", "hub/state/proxy_auth_token",
    "hub/state/admin_password", "hub/state/students/ada/notebooks/03_train.ipynb",
    "hub/state/class/class.sqlite", "hub/proxy/node_modules/configurable-http-proxy/index.js",
    "data/MNIST/raw/train-images-idx3-ubyte", "data/checkpoints/lenet5.pt", "data/runs/run-1/log.json",
    "data/class/class.sqlite", "data/class/class.sqlite-wal",
    "build/lib/lenet_utils/__init__.py", "lenet_utils.egg-info/PKG-INFO",
    "lenet_utils/__pycache__/model.cpython-311.pyc", "notebooks/.ipynb_checkpoints/01-checkpoint.ipynb",
    ".pytest_cache/v/cache/nodeids", "hub/tls/hub.key", "hub/tls/hub.pem", "hub/tls/hub.crt",
    ".env", "app/.env.local", "id_rsa", "venv/bin/python", ".kube/config", ".docker/config.json",
]
# What the image needs (the start command and the build appendix use these)
NEEDED = ["environment.yml", "postBuild", "pyproject.toml", "hub/z2jh/start-student.sh", "hub/kernel_note.py",
          "notebooks/01_mnist_data.ipynb", "lenet_utils/__init__.py", "data/examples/README.md"]


def _tracked() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return [p for p in out.splitlines() if (REPO / p).is_file()]


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """The repository's files (empty, except .dockerignore) plus every folder that must not ship."""
    root = tmp_path_factory.mktemp("checkout")
    for rel in _tracked() + NEVER_IN_THE_IMAGE:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    (root / ".dockerignore").write_text((REPO / ".dockerignore").read_text())
    return root


def test_the_context_holds_no_secret_no_venv_and_no_data(checkout):
    context = build_context.build_context(checkout)
    leaked = sorted(p for p in NEVER_IN_THE_IMAGE if p in context)
    assert leaked == [], f"these would be in the image pushed to a registry: {leaked}"
    for folder in (".venv/", ".git/", "hub/state/", "data/MNIST/", "node_modules/", "build/"):
        assert not [p for p in context if p.startswith(folder) or f"/{folder}" in p], folder


def test_the_context_holds_the_whole_course(checkout):
    context = build_context.build_context(checkout)
    missing = sorted(p for p in _tracked() if p not in context and p != ".gitignore")
    assert missing == [], f".dockerignore leaves out files of the course: {missing}"
    assert all(p in context for p in NEEDED)


def test_without_the_ignore_file_everything_would_ship(checkout):
    """The check above can fail: the same checkout without .dockerignore leaks every one of them."""
    context = build_context.build_context(checkout, ignore_file=None)
    assert all(p in context for p in NEVER_IN_THE_IMAGE)


@pytest.mark.parametrize("rules, path, excluded", [
    ("hub/state", "hub/state/students/ada/x.ipynb", True),         # a folder excludes all inside
    ("/hub/state", "hub/state/x", True),                           # a leading / is dropped
    ("hub/state/", "hub/state/x", True),                           # so is a trailing one
    ("hub/state", "lab/hub/state/x", False),                       # anchored at the root
    ("**/.venv", ".venv/bin/python", True),                        # ** is zero folders too
    ("**/.venv", "a/b/.venv/x", True),
    ("*.pem", "tls/hub.pem", False),                               # * never crosses a /
    ("**/*.pem", "tls/hub.pem", True),
    ("data/*\n!data/examples", "data/examples/0.jpg", False),      # ! re-includes, last match wins
    ("data/*\n!data/examples", "data/MNIST/raw/x", True),
    ("data/*\n!data/examples\ndata/examples/secret", "data/examples/secret", True),
    ("# a comment\n\n  build  ", "build/x", True),
    ("file?.txt", "file1.txt", True), ("file?.txt", "file10.txt", False),
    ("id_rsa[._]*", "id_rsa.pub", True), ("id_rsa[._]*", "id_rsaX", False),
    ("key[!s]", "keyX", True), ("key[!s]", "keys", False),
    ("notes/../hub/state", "hub/state/x", True),                   # cleaned like a path
    (".dockerignore", ".dockerignore", False),                     # always sent, as docker-py does
])
def test_dockerignore_rules(tmp_path, rules, path, excluded):
    """The rules on a real tree: matching and the walk together, as docker-py's exclude_paths."""
    (tmp_path / ".dockerignore").write_text(rules + "\n")
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_text("x")
    assert (path not in build_context.build_context(tmp_path)) is excluded


def test_the_build_command_is_complete():
    config = (REPO / "hub" / "z2jh" / "config.yaml").read_text()
    cmd = re.search(r"jupyter-repo2docker .*?--appendix \"([^\"]*)\" \.", config, re.S)
    assert cmd, "no repo2docker command building from the repository root"
    text = cmd.group(0)
    for flag in ("--no-run", "--user-id 1000", "--user-name jovyan", "--target-repo-dir /srv/course"):
        assert flag in text, f"the build command lacks {flag}"
    assert cmd.group(1) == "RUN cd /srv/course && python -m lenet_utils data"   # MNIST once, in the image
    image = z2jh_chart.values()["singleuser"]["image"]
    ref = f"{image['name']}:{image['tag']}"            # the image the pods run is the one built and pushed
    assert f"--image-name {ref}" in text and f"docker push {ref}" in config
    # the pods run as the image's user and start from the script the image holds
    values = z2jh_chart.values()
    assert values["singleuser"]["uid"] == 1000
    assert values["singleuser"]["cmd"][1] == "/srv/course/hub/z2jh/start-student.sh"


def _conda_spec(dep: str) -> SpecifierSet:
    """A conda version spec as a PEP 440 one: "=5.5" is 5.5.*, "==5.5.0" exact, ">=5.5,<5.6" as is."""
    version = re.split(r"(?=[<>=!~])", dep, maxsplit=1)[1].strip()
    if re.fullmatch(r"=[^=<>!,]+", version):
        return SpecifierSet(f"=={version[1:]}.*")
    return SpecifierSet(version)


def test_the_images_jupyterhub_matches_the_charts_hub():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    deps = [d.split("#")[0].strip() for d in env["dependencies"] if isinstance(d, str)]
    spec = _conda_spec(next(d for d in deps if re.match(r"jupyterhub\s*[<>=!~]", d)))
    hub = z2jh_chart.chart_facts()["appVersion"]                       # 5.5.0 for chart 4.4.0
    major, minor = (int(x) for x in hub.split(".")[:2])
    assert hub in spec and f"{major}.{minor}.9" in spec
    assert f"{major}.{minor - 1}.0" not in spec and f"{major}.{minor + 1}.0" not in spec
    assert f"{major + 1}.0.0" not in spec


def test_the_conda_spec_reading_can_fail():
    assert "5.6.0" in _conda_spec("jupyterhub>=5.0") and "5.5.3" in _conda_spec("jupyterhub=5.5")
    assert "5.6.0" not in _conda_spec("jupyterhub=5.5")


def test_the_checker_refuses_a_root_without_dockerignore_in_one_line(tmp_path):
    run = subprocess.run([sys.executable, str(REPO / "hub" / "z2jh" / "build_context.py"), str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "without it the image gets every file" in run.stderr.strip().splitlines()[-1]
