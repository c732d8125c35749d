"""docs/teaching.md's cluster route and hub/README.md's z2jh section say what the config does.

Each figure or command the two quote about Zero to JupyterHub is read from where it is decided
(hub/z2jh/config.yaml, the chart's data in tests/data/z2jh_chart_4.4.0/, hub/jupyterhub_config.py)
and must appear as quoted; the tests and files they name must exist.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
import z2jh_chart  # tests/z2jh_chart.py

REPO = Path(__file__).resolve().parents[1]
TEACHING = (REPO / "docs" / "teaching.md").read_text()
HUB_README = (REPO / "hub" / "README.md").read_text()
CONFIG_TEXT = z2jh_chart.CONFIG.read_text()
CONFIG = yaml.safe_load(CONFIG_TEXT)


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    level = heading.split(" ")[0]
    nxt = re.search(rf"^#{{1,{len(level)}}} ", text[start + len(heading):], re.M)
    return text[start:start + len(heading) + (nxt.start() if nxt else len(text))]


ROUTE = _section(TEACHING, "### The cluster route, step by step")
Z2JH = _section(HUB_README, "## Beyond one machine: Zero to JupyterHub")
ROUTE_WORDS, Z2JH_WORDS = " ".join(ROUTE.split()), " ".join(Z2JH.split())   # line breaks don't matter


def _commands(text: str) -> list[str]:
    """Shell commands in a text (comments' leading '#' and continuation backslashes removed)."""
    text = re.sub(r"\\\s*\n\s*#?\s*", " ", text)
    return [re.sub(r"^\s*#?\s*", "", line).strip() for line in text.splitlines()]


def test_the_helm_and_build_commands_are_the_configs():
    image = re.compile(r"\S+/lenet-by-hand:\S+")   # the docs say REGISTRY/...:TAG, the config its own
    config_cmds = [image.sub("IMAGE", c) for c in _commands(CONFIG_TEXT)]
    doc_cmds = [image.sub("IMAGE", c) for c in _commands(ROUTE)]
    for prefix in ("helm repo add", "helm repo update", "helm upgrade --install", "jupyter-repo2docker",
                   "docker push"):
        in_config = [c for c in config_cmds if c.startswith(prefix)]
        in_doc = [c for c in doc_cmds if c.startswith(prefix)]
        assert in_config and in_doc == in_config, (prefix, in_doc, in_config)


def test_the_quoted_figures_come_from_the_config_and_the_chart():
    facts = z2jh_chart.chart_facts()
    kube = facts["kubeVersion"].lstrip(">=").split(".0-")[0]          # ">=1.28.0-0" -> "1.28"
    assert f"version {kube} or newer" in ROUTE_WORDS and f"(chart {facts['version']})" in ROUTE_WORDS
    assert f"KubeSpawner {facts['kubespawner']}" in ROUTE_WORDS
    assert (f"**{facts['version']}** (JupyterHub {facts['appVersion']}, KubeSpawner {facts['kubespawner']})"
            in Z2JH_WORDS)
    gib = CONFIG["singleuser"]["storage"]["capacity"].removesuffix("Gi")
    assert f"a {gib} GiB `ReadWriteOnce` volume" in ROUTE_WORDS and f"({gib} GiB," in Z2JH_WORDS
    na = CONFIG["hub"]["config"]["NativeAuthenticator"]
    assert f"passwords of {na['minimum_password_length']}+ characters" in Z2JH_WORDS
    assert (f"a {na['seconds_before_next_try']}-second lock-out after {na['allowed_failed_logins']} "
            "failed logins") in Z2JH_WORDS
    assert CONFIG["cull"]["timeout"] == 3600 and "after an hour" in Z2JH_WORDS
    assert CONFIG["singleuser"]["uid"] == 1000 and "`--user-id 1000`" in Z2JH_WORDS


def test_the_named_files_exist():
    for text in (ROUTE, Z2JH):
        for name in set(re.findall(r"`((?:tests|hub|docs)/[\w./-]+\.\w+)`", text)):   # files, not folders
            assert (REPO / name).is_file(), name


def test_the_cluster_gallery_in_the_docs_is_the_configs():
    """The gallery service beside the hub (issue 30 point 2): the docs give the address and the volume
    the config uses, and no longer say the gallery is per student."""
    url = CONFIG["singleuser"]["extraEnv"]["LENET_CLASS_SERVICE"]
    claim = CONFIG["hub"]["extraVolumes"][0]["persistentVolumeClaim"]["claimName"]
    volume = (REPO / "hub" / "z2jh" / "gallery-volume.yaml").read_text()
    assert f"name: {claim}" in volume
    for text in (ROUTE_WORDS, Z2JH_WORDS):
        assert "still per student" not in text and "does not exist yet" not in text
        assert f"`{url}`" in text and "`hub/z2jh/gallery-volume.yaml`" in text and "`ReadWriteOnce`" in text
