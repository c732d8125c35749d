"""Zero to JupyterHub chart 4.4.0 as far as the z2jh tests need it, offline.

``values()`` merges hub/z2jh/config.yaml onto the chart's defaults the way ``helm`` does (maps
merged, lists and scalars replaced, ``null`` removes a default). ``kubespawner_config()`` turns
those values into the traitlets config the chart's ``jupyterhub_config.py`` gives KubeSpawner: a
port of the parts of that file (chart tag 4.4.0, ``jupyterhub/files/hub/jupyterhub_config.py``)
that shape a student's pod: the ``singleuser.*`` pass-through table, the image, the home volume
(dynamic or static storage), ``singleuser.cmd``, ``singleuser.defaultUrl`` and the ``hub.config``
pass-through, applied last as there. Not ported (they need a cluster or do not touch the pod's
container): scheduling, image pull secrets, ``extraFiles``, the cloud-metadata init container,
network policies and ``hub.extraConfig`` (run by the hub itself). The chart's data comes from
tests/data/z2jh_chart_4.4.0/ (its README names the source and licence).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import yaml
from traitlets.config import Config

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "hub" / "z2jh" / "config.yaml"
CHART = REPO / "tests" / "data" / "z2jh_chart_4.4.0"
CHART_VERSION = "4.4.0"

# jupyterhub_config.py's table: KubeSpawner trait, singleuser.<key> (None: the trait in camelCase)
_PASS_THROUGH = (
    ("pod_name_template", None), ("start_timeout", None), ("image_pull_policy", "image.pullPolicy"),
    ("events_enabled", "events"), ("extra_labels", None), ("extra_annotations", None), ("uid", None),
    ("fs_gid", None), ("service_account", "serviceAccountName"), ("storage_extra_labels", "storage.extraLabels"),
    ("node_selector", None), ("node_affinity_required", "extraNodeAffinity.required"),
    ("node_affinity_preferred", "extraNodeAffinity.preferred"),
    ("pod_affinity_required", "extraPodAffinity.required"), ("pod_affinity_preferred", "extraPodAffinity.preferred"),
    ("pod_anti_affinity_required", "extraPodAntiAffinity.required"),
    ("pod_anti_affinity_preferred", "extraPodAntiAffinity.preferred"),
    ("lifecycle_hooks", None), ("init_containers", None), ("extra_containers", None),
    ("mem_limit", "memory.limit"), ("mem_guarantee", "memory.guarantee"), ("cpu_limit", "cpu.limit"),
    ("cpu_guarantee", "cpu.guarantee"), ("extra_resource_limits", "extraResource.limits"),
    ("extra_resource_guarantees", "extraResource.guarantees"), ("environment", "extraEnv"),
    ("profile_list", None), ("extra_pod_config", None),
)
_MISSING = object()


def chart_defaults() -> dict:
    return json.loads((CHART / "values.json").read_text())


def chart_schema() -> dict:
    return json.loads((CHART / "values.schema.json").read_text())


def chart_facts() -> dict:
    return json.loads((CHART / "chart.json").read_text())


def helm_merge(defaults: dict, overrides: dict) -> dict:
    out = copy.deepcopy(defaults)
    for key, value in overrides.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = helm_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def values(config: dict | None = None) -> dict:
    """The values the chart renders with: its defaults with this config (or ``config``) on top."""
    return helm_merge(chart_defaults(), yaml.safe_load(CONFIG.read_text()) if config is None else config)


def _get(vals: dict, dotted: str, default=None):
    node = vals
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def _camel(name: str) -> str:
    return re.sub(r"_(\w)", lambda m: m.group(1).upper(), name)


def kubespawner_config(vals: dict) -> Config:
    c = Config()
    for trait, key in _PASS_THROUGH:
        value = _get(vals, "singleuser." + (key or _camel(trait)))
        if value is not None:
            c.KubeSpawner[trait] = copy.deepcopy(value)
    image = _get(vals, "singleuser.image.name")
    if image:
        tag = _get(vals, "singleuser.image.tag")
        c.KubeSpawner.image = f"{image}:{tag}" if tag else image
    c.KubeSpawner.allow_privilege_escalation = _get(vals, "singleuser.allowPrivilegeEscalation")

    volumes, mounts = {}, {}
    storage = _get(vals, "singleuser.storage", {})
    if storage.get("type") == "dynamic":
        dynamic = storage["dynamic"]
        if dynamic.get("pvcNameTemplate"):
            c.KubeSpawner.pvc_name_template = dynamic["pvcNameTemplate"]
        name = dynamic["volumeNameTemplate"]
        c.KubeSpawner.storage_pvc_ensure = True
        for trait, value in (("storage_class", dynamic.get("storageClass")),
                             ("storage_access_modes", dynamic.get("storageAccessModes")),
                             ("storage_capacity", storage.get("capacity"))):
            if value is not None:
                c.KubeSpawner[trait] = value
        volumes = {name: {"name": name, "persistentVolumeClaim": {"claimName": "{pvc_name}"}}}
        mounts = {name: {"mountPath": storage["homeMountPath"], "name": name, "subPath": dynamic.get("subPath")}}
    elif storage.get("type") == "static":
        volumes = {"home": {"name": "home", "persistentVolumeClaim": {"claimName": storage["static"]["pvcName"]}}}
        mounts = {"home": {"mountPath": storage["homeMountPath"], "name": "home",
                           "subPath": storage["static"].get("subPath")}}
    volumes.update(storage.get("extraVolumes") or {})
    mounts.update(storage.get("extraVolumeMounts") or {})
    c.KubeSpawner.volumes = volumes
    c.KubeSpawner.volume_mounts = mounts

    cmd = _get(vals, "singleuser.cmd", _MISSING)
    if cmd is not _MISSING:
        c.Spawner.cmd = cmd
    if _get(vals, "singleuser.defaultUrl") is not None:
        c.Spawner.default_url = _get(vals, "singleuser.defaultUrl")
    for section, cfg in (_get(vals, "hub.config") or {}).items():
        c[section].update(copy.deepcopy(cfg))
    return c
