"""hub/z2jh/config.yaml, the Zero to JupyterHub values for a class beyond one machine.

This machine cannot run Kubernetes, so these tests check what can be checked here: the YAML
parses; every key it sets exists in the values schema of the chart it names (jupyterhub 4.4.0,
``jupyterhub/values.schema.yaml``; the paths used are recorded below from that file, since tests
never reach the network); and its per-student figures agree with what the hub load test measured
(benchmarks/results/classroom_hub.json, 8 students through the hub) and the limits with the
one-machine hub's defaults (hub/z2jh/sizing.json).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "hub" / "z2jh" / "config.yaml"
SIZING = REPO / "hub" / "z2jh" / "sizing.json"
MEASURED = REPO / "benchmarks" / "results" / "classroom_hub.json"   # benchmarks/classroom.py --hub
CHART_VERSION = "4.4.0"

# Key paths of chart 4.4.0's values.schema.yaml that this config may use. "*": the schema allows
# any key below (additionalProperties: true), e.g. JupyterHub traitlets or environment variables.
SCHEMA_PATHS = {
    "singleuser", "singleuser.image", "singleuser.image.name", "singleuser.image.tag",
    "singleuser.image.pullPolicy", "singleuser.defaultUrl", "singleuser.cpu", "singleuser.cpu.limit",
    "singleuser.cpu.guarantee", "singleuser.memory", "singleuser.memory.limit", "singleuser.memory.guarantee",
    "singleuser.extraEnv.*", "singleuser.storage", "singleuser.storage.capacity",
    "singleuser.storage.homeMountPath", "singleuser.lifecycleHooks", "singleuser.lifecycleHooks.postStart.*",
    "singleuser.startTimeout", "singleuser.cmd",
    "hub", "hub.config.*", "hub.extraConfig.*",
    "cull", "cull.enabled", "cull.timeout", "cull.every", "cull.users", "cull.maxAge",
    "proxy", "proxy.https", "proxy.https.enabled", "proxy.https.hosts", "proxy.https.type",
    "proxy.https.letsencrypt", "proxy.https.letsencrypt.contactEmail",
}


def _paths(node, prefix=""):
    for key, value in node.items():
        path = f"{prefix}{key}"
        yield path
        if isinstance(value, dict) and f"{path}.*" not in SCHEMA_PATHS:
            yield from _paths(value, path + ".")


def _bytes(text) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]?)", str(text))
    assert m, f"not a size: {text}"
    return int(float(m.group(1)) * {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}[m.group(2)])


def _config():
    return yaml.safe_load(CONFIG.read_text())


def test_config_parses_and_names_the_chart_version():
    assert isinstance(_config(), dict)
    assert f"--version {CHART_VERSION}" in CONFIG.read_text()


def test_every_key_exists_in_the_chart_schema():
    unknown = []
    for path in _paths(_config()):
        if (path in SCHEMA_PATHS or f"{path}.*" in SCHEMA_PATHS
                or any(path.startswith(p[:-1]) for p in SCHEMA_PATHS if p.endswith(".*"))):
            continue
        unknown.append(path)
    assert unknown == [], f"not in chart {CHART_VERSION}'s values schema: {unknown}"


def test_limits_and_threads_follow_the_measured_figures():
    cfg, sizing, measured = _config(), json.loads(SIZING.read_text()), json.loads(MEASURED.read_text())
    su = cfg["singleuser"]
    assert measured["mode"] == "hub" and measured["failures"] == 0 and measured["students"] >= 8
    peak = measured["student_cgroup_peak_mb"]["max"] * 2**20   # one student's server + kernels, at most
    assert _bytes(su["memory"]["guarantee"]) >= peak, "the guarantee must cover one student's measured peak"
    assert _bytes(su["memory"]["limit"]) >= 1.5 * peak
    assert _bytes(su["memory"]["guarantee"]) == _bytes(sizing["memory_guarantee"])
    assert _bytes(su["memory"]["limit"]) == _bytes(sizing["memory_limit"])
    assert su["cpu"]["limit"] == sizing["cpu_limit"] and su["cpu"]["guarantee"] == sizing["cpu_guarantee"]
    # the measured class had cpus / students each and finished: the guarantee is at least that share
    assert su["cpu"]["guarantee"] >= measured["cpus"] / measured["students"]
    # OMP_NUM_THREADS = the CPU limit (whole CPUs, at least 1)
    assert int(su["extraEnv"]["OMP_NUM_THREADS"]) == max(1, int(su["cpu"]["limit"]))
    assert cfg["cull"]["enabled"] is True and cfg["cull"]["timeout"] > 0


def test_the_one_machine_hub_uses_the_same_memory_limit():
    launch = (REPO / "hub" / "launch.py").read_text()
    default = re.search(r'"HUB_MEM", "([^"]*)"', launch).group(1)
    assert _bytes(default) == _bytes(json.loads(SIZING.read_text())["memory_limit"])


def test_mnist_is_placed_in_the_image_once():
    text = CONFIG.read_text()
    assert "repo2docker" in text and "python -m lenet_utils data" in text
    hook = " ".join(_config()["singleuser"]["lifecycleHooks"]["postStart"]["exec"]["command"])
    assert "ln -sfn /srv/course/data/MNIST" in hook  # linked into each home, not copied
