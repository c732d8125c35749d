"""hub/z2jh/config.yaml, the Zero to JupyterHub values for a class beyond one machine.

This machine cannot run Kubernetes, so these tests check what can be checked here: the values,
merged onto chart 4.4.0's defaults as helm merges them, validate against the chart's own values
schema (key paths *and* types; tests/data/z2jh_chart_4.4.0/ holds both, from the chart's tag); the
traitlets passed through ``hub.config`` exist on their classes with valid types; every example
value that must be replaced is marked CHANGE-ME; the helm commands are complete; the sign-up
protections are those of ``make hub``; and the per-student figures agree with what the hub load
test measured (benchmarks/results/classroom_hub.json) and with hub/z2jh/sizing.json. The pod
itself is built by KubeSpawner in tests/test_z2jh_pod.py.
"""

from __future__ import annotations

import ast
import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
import z2jh_chart  # tests/z2jh_chart.py

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "hub" / "z2jh" / "config.yaml"
SIZING = REPO / "hub" / "z2jh" / "sizing.json"
MEASURED = REPO / "benchmarks" / "results" / "classroom_hub.json"   # benchmarks/classroom.py --hub
CHART_VERSION = z2jh_chart.CHART_VERSION
# Values that are examples, never real: each must sit next to a CHANGE-ME marker in the same value.
EXAMPLE_VALUE = re.compile(r"example\.(org|com|net)|(?-i:\bREGISTRY\b|^TAG$)|your[-_ ]|<[^>]+>|lecturer@", re.I)


def _schema_errors(values: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(z2jh_chart.chart_schema())
    return sorted(f"{'.'.join(map(str, e.absolute_path)) or '<top>'}: {e.message}"
                  for e in validator.iter_errors(values))


def _bytes(text) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGT]?)", str(text))
    assert m, f"not a size: {text}"
    return int(float(m.group(1)) * {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}[m.group(2)])


def _config():
    return yaml.safe_load(CONFIG.read_text())


def test_config_parses_and_names_the_chart_version():
    assert isinstance(_config(), dict)
    assert f"--version {CHART_VERSION}" in CONFIG.read_text()
    assert z2jh_chart.chart_facts()["version"] == CHART_VERSION


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


def test_values_validate_against_the_charts_schema_keys_and_types():
    assert _schema_errors(z2jh_chart.chart_defaults()) == []      # the chart's own defaults pass
    assert _schema_errors(z2jh_chart.values()) == [], "hub/z2jh/config.yaml breaks chart 4.4.0's schema"


@pytest.mark.parametrize("path, bad", [
    ("singleuser.cpu.limit", "1 CPU"),           # a string where the schema wants a number
    ("singleuser.storage.capacity", 2),          # a number where it wants a string
    ("singleuser.cmd", {"sh": 1}),               # an object where it wants a list or string
    ("cull.timeout", "1h"),
    ("proxy.https.hosts", "hub.example.org"),     # a string where it wants a list
    ("singleuser.memory.limt", "2G"),            # a key the schema does not know
])
def test_the_schema_check_catches_a_wrong_type_or_key(path, bad):
    cfg = copy.deepcopy(_config())
    node = cfg
    *parents, leaf = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = bad
    errors = _schema_errors(z2jh_chart.values(cfg))
    assert errors and any(".".join(parents) in e for e in errors), errors


def test_hub_config_traits_exist_with_valid_types():
    """hub.config is passed to traitlets as is: the schema allows any key there, so check the classes."""
    from jupyterhub.app import JupyterHub
    from kubespawner import KubeSpawner
    from nativeauthenticator import NativeAuthenticator

    classes = {"JupyterHub": JupyterHub, "Authenticator": NativeAuthenticator,
               "NativeAuthenticator": NativeAuthenticator, "KubeSpawner": KubeSpawner}
    problems = []
    for section, settings in _config()["hub"]["config"].items():
        cls = classes.get(section)
        if cls is None:
            problems.append(f"{section}: no class checked for this section; add it to this test")
            continue
        traits = cls.class_traits(config=True)
        obj = cls.__new__(cls)   # trait storage only: validating needs no hub, database or cluster
        for key, value in settings.items():
            if key not in traits:
                problems.append(f"{section}.{key}: not a configurable trait of {cls.__name__}")
                continue
            try:
                traits[key].validate(obj, value)
            except Exception as exc:  # traitlets' TraitError: the value's type is wrong
                problems.append(f"{section}.{key}: {exc}")
    assert problems == []


def test_native_authenticator_has_the_protections_of_make_hub():
    tree = ast.parse((REPO / "hub" / "jupyterhub_config.py").read_text())
    make_hub = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Attribute)
                and isinstance(node.targets[0].value, ast.Attribute)
                and node.targets[0].value.attr == "NativeAuthenticator"):
            make_hub[node.targets[0].attr] = ast.literal_eval(node.value)
    for key in ("open_signup", "minimum_password_length", "check_common_password",
                "allowed_failed_logins", "seconds_before_next_try"):
        assert key in make_hub, f"make hub no longer sets {key}: update this test"
    assert _config()["hub"]["config"]["NativeAuthenticator"] == make_hub
    assert make_hub["open_signup"] is False and make_hub["check_common_password"] is True


def _strings(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, f"{path}[{i}]")
    elif isinstance(node, str):
        yield path, node


def _unmarked_examples(text: str) -> list[str]:
    bad = [f"{path}: {value!r}" for path, value in _strings(yaml.safe_load(text))
           if EXAMPLE_VALUE.search(value) and "CHANGE-ME" not in value]
    # the commands in the header comments too: a line with an example value must be marked
    for line in text.splitlines():
        if line.lstrip().startswith("#") and EXAMPLE_VALUE.search(line) and "CHANGE-ME" not in line:
            bad.append(f"comment: {line.strip()}")
    return bad


def test_placeholders_are_marked():
    """Each value a class must supply is either a real one or marked CHANGE-ME, never a bare example."""
    cfg = _config()
    needs_real = {
        "singleuser.image.name": cfg["singleuser"]["image"]["name"],
        "singleuser.image.tag": cfg["singleuser"]["image"]["tag"],
        "proxy.https.hosts": " ".join(cfg["proxy"]["https"]["hosts"]),
        "proxy.https.letsencrypt.contactEmail": cfg["proxy"]["https"]["letsencrypt"]["contactEmail"],
    }
    unmarked = {k: v for k, v in needs_real.items()
                if "CHANGE-ME" not in v and (EXAMPLE_VALUE.search(v) or v in ("TAG", "latest", ""))}
    assert unmarked == {}, "an example value where a real one is needed: mark it CHANGE-ME or fill it in"
    assert _unmarked_examples(CONFIG.read_text()) == []


def test_the_placeholder_check_catches_the_old_unmarked_values():
    old = CONFIG.read_text().replace("CHANGE-ME-registry/lenet-by-hand", "REGISTRY/lenet-by-hand")
    old = old.replace("CHANGE-ME.hub.example.org", "hub.example.org")
    old = old.replace("CHANGE-ME@example.org", "lecturer@example.org")
    found = "\n".join(_unmarked_examples(old))
    for value in ("REGISTRY/lenet-by-hand", "hub.example.org", "lecturer@example.org"):
        assert value in found


def test_a_filled_in_config_passes_the_placeholder_check():
    real = CONFIG.read_text().replace("CHANGE-ME-registry", "registry.uni.edu/ml").replace("CHANGE-ME-tag", "2026-12")
    real = real.replace("CHANGE-ME.hub.example.org", "lenet.uni.edu").replace("CHANGE-ME@example.org", "ml@uni.edu")
    # the check the docs give the lecturer: grep -n 'CHANGE-ME[-.@]' prints nothing
    assert not re.search(r"CHANGE-ME[-.@]", real) and _unmarked_examples(real) == []
    assert re.search(r"CHANGE-ME[-.@]", CONFIG.read_text())          # and something before filling in


def test_the_helm_commands_are_complete():
    text = CONFIG.read_text()
    assert "helm repo add jupyterhub https://hub.jupyter.org/helm-chart/" in text
    assert "helm repo update" in text
    install = re.search(r"helm upgrade --install .*?-f hub/z2jh/config\.yaml", text, re.S).group(0)
    for flag in (f"--version {CHART_VERSION}", "--namespace ", "--create-namespace", "--timeout 10m0s"):
        assert flag in install, f"the helm command lacks {flag}"
    assert "jupyterhub/jupyterhub" in install


def test_the_home_is_the_volume_and_the_servers_root():
    cfg = z2jh_chart.values()
    home = cfg["singleuser"]["storage"]["homeMountPath"]
    assert cfg["singleuser"]["storage"]["type"] == "dynamic"
    assert cfg["hub"]["config"]["KubeSpawner"] == {"working_dir": home, "notebook_dir": home}
    assert cfg["singleuser"]["extraEnv"]["LENET_DATA_DIR"].startswith(home + "/")
    assert cfg["singleuser"]["uid"] == 1000 and "--user-id 1000" in CONFIG.read_text()
