"""Binder and Colab, checked as files: repo2docker itself cannot run here (it needs Docker), so these tests
parse what it reads (environment.yml, postBuild) and the launch links and set-up cells the docs give."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
TEACHING = (REPO / "docs" / "teaching.md").read_text()
GITHUB = "lenet-by-hand/lenet-by-hand"
LESSONS = sorted(p.stem for p in (REPO / "notebooks").glob("0*.ipynb") if ".solutions" not in p.name)


def test_repo2docker_reads_the_environment_then_postbuild_installs_the_package():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    deps = [d for d in env["dependencies"] if isinstance(d, str)]
    assert not [d for d in env["dependencies"] if isinstance(d, dict)], "no pip section: `-e .` belongs in postBuild"
    assert "pip" in deps and any(d.startswith("python=") for d in deps)
    hub = next(d for d in deps if d.startswith("jupyterhub"))
    assert re.fullmatch(r"jupyterhub=5\.\d+", hub.split("#")[0].strip()), "the hub's upper pin (<6) is kept"
    post = REPO / "postBuild"
    text = post.read_text()
    assert os.access(post, os.X_OK) and text.startswith("#!/bin/bash\n") and "set -euo pipefail" in text
    assert "pip install --no-cache-dir --no-deps -e ." in text
    assert not (REPO / "binder").exists() and not (REPO / ".binder").exists(), \
        "a binder/ folder would make repo2docker ignore the root's environment.yml and postBuild"
    assert subprocess.run(["bash", "-n", str(post)]).returncode == 0        # it parses


def test_every_lesson_has_a_colab_and_a_binder_link_to_a_notebook_that_exists():
    rows = {m[0]: m for m in re.findall(
        r"^\| `(\w+)` \| \[!\[Open in Colab\]\([^)]+\)\]\(https://colab\.research\.google\.com/github/"
        r"([\w\-]+/[\w\-]+)/blob/main/(notebooks/\w+\.ipynb)\) \| \[!\[Binder\]\([^)]+\)\]\("
        r"https://mybinder\.org/v2/gh/([\w\-]+/[\w\-]+)/HEAD\?urlpath=lab/tree/(notebooks/\w+\.ipynb)\) \| (.+) \|$",
        TEACHING, re.M)}
    assert sorted(rows) == LESSONS
    for stem, (_, colab_repo, colab_path, binder_repo, binder_path, before) in rows.items():
        assert colab_repo == binder_repo == GITHUB
        assert colab_path == binder_path == f"notebooks/{stem}.ipynb" and (REPO / colab_path).is_file()
        widgets = "widget-view+json" in (REPO / colab_path).read_text()
        assert before == ("the set-up cell, then the widgets line" if widgets else "the set-up cell"), stem


def test_the_colab_set_up_cell_fetches_this_repository_and_the_readme_has_both_badges():
    colab = TEACHING.split("### Colab", 1)[1]
    cell = re.search(r"```python\n(.*?)```", colab, re.S).group(1)
    assert cell.splitlines() == [f"!git clone --depth 1 https://github.com/{GITHUB}.git", "%cd lenet-by-hand",
                                 "!pip install -q -e ."]
    assert "output.enable_custom_widget_manager()" in colab
    for badge in ("https://mybinder.org/badge_logo.svg", "https://colab.research.google.com/assets/colab-badge.svg"):
        assert badge in README, badge
    assert f"https://mybinder.org/v2/gh/{GITHUB}/HEAD?urlpath=lab/tree/notebooks/01_mnist_data.ipynb" in README
    assert "build the Binder image the day before class" in README
