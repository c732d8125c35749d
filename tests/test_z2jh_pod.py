"""The pod a student gets on Zero to JupyterHub, built by KubeSpawner itself, offline.

tests/z2jh_chart.py merges hub/z2jh/config.yaml onto chart 4.4.0's defaults and turns the values
into KubeSpawner config as the chart's jupyterhub_config.py does; KubeSpawner 7.0.0 (the chart's
hub image's version) then builds the pod manifest with ``get_pod_manifest()``. KubeSpawner needs a
kube-config to start; the one written here names an address that is never contacted (building a
manifest makes no API call). What a cluster adds and this cannot test: that the volume is
provisioned and mounted, that the image holds the files the start command names (the build is
tested by tests/test_z2jh_image.py), and that the limits are enforced by the kubelet.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from types import SimpleNamespace

import pytest
import yaml
import z2jh_chart  # tests/z2jh_chart.py: the chart's values and its jupyterhub_config.py, ported
from kubernetes_asyncio.config import kube_config
from kubespawner import KubeSpawner  # jupyterhub-kubespawner (the dev extra): missing, every test fails

HOME = "/home/jovyan"

KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: offline, cluster: {server: "http://127.0.0.1:9"}}]
users: [{name: offline, user: {token: not-used}}]
contexts: [{name: offline, context: {cluster: offline, user: offline}}]
current-context: offline
"""


def build_pod(tmp_path, monkeypatch, config: dict | None = None, student: str = "ada"):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    # kubernetes_asyncio reads $KUBECONFIG once, at import: its module default is what counts
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    cfg = z2jh_chart.kubespawner_config(z2jh_chart.values(config))
    user = SimpleNamespace(name=student, id=7, url=f"/user/{student}/", escaped_name=student)

    async def manifest():
        spawner = KubeSpawner(config=cfg, user=user, _mock=True)
        spawner.api_token = "token-of-" + student
        pod = await spawner.get_pod_manifest()
        # the JSON KubeSpawner would send to the API server (camelCase, no unset fields)
        return spawner, spawner.api.api_client.sanitize_for_serialization(pod)

    # a fresh event loop in a thread of its own: earlier tests in the same session (Playwright's sync API)
    # leave a loop running in the main thread, where asyncio.run() refuses to start
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, manifest()).result()


@pytest.fixture(scope="module")
def pod(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    try:
        spawner, manifest = build_pod(tmp_path_factory.mktemp("kube"), mp)
    finally:
        mp.undo()
    container = manifest["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    return SimpleNamespace(spawner=spawner, manifest=manifest, container=container, env=env)


def test_the_server_root_and_working_folder_are_the_students_volume(pod):
    assert pod.container["workingDir"] == HOME
    assert pod.env["JUPYTERHUB_ROOT_DIR"] == HOME      # JupyterHub 5.5's single-user server reads this
    assert pod.env["JUPYTERHUB_DEFAULT_URL"] == "/lab/tree/notebooks/01_mnist_data.ipynb"
    mounts = {m["mountPath"]: m for m in pod.container["volumeMounts"]}
    assert HOME in mounts, f"the home is not a volume: {sorted(mounts)}"
    volumes = {v["name"]: v for v in pod.manifest["spec"]["volumes"]}
    claim = volumes[mounts[HOME]["name"]]["persistentVolumeClaim"]
    assert claim["claimName"] == pod.spawner.pvc_name == "claim-ada"   # the student's own claim
    assert pod.spawner.storage_pvc_ensure and pod.spawner.storage_capacity == "2Gi"


def test_the_environment_names_the_student_and_the_threads(pod):
    assert pod.env["JUPYTERHUB_USER"] == "ada"
    assert pod.env["OMP_NUM_THREADS"] == "1"
    assert pod.env["LENET_DATA_DIR"] == HOME + "/lenet-data"   # on the volume
    assert pod.env["MEM_LIMIT"] == str(2 * 2**30) and pod.env["CPU_LIMIT"] == "1.0"


def test_resources_are_the_sizing(pod):
    res = pod.container["resources"]
    assert res["limits"] == {"cpu": 1.0, "memory": 2 * 2**30}             # hub/z2jh/sizing.json: 1 CPU, 2G
    assert res["requests"] == {"cpu": 0.5, "memory": int(0.75 * 2**30)}    # 0.5 CPU, 0.75G


def test_the_start_command_prepares_the_home_then_runs_the_server(pod):
    assert pod.container["args"] == ["sh", "/srv/course/hub/z2jh/start-student.sh", "jupyterhub-singleuser"]
    assert "command" not in pod.container              # the image's entrypoint (repo2docker's) stays
    assert not pod.container.get("lifecycle")          # no postStart racing the server
    image = z2jh_chart.values()["singleuser"]["image"]
    assert pod.container["image"] == f"{image['name']}:{image['tag']}"
    sc = pod.container["securityContext"]
    assert sc["runAsUser"] == 1000 and sc["allowPrivilegeEscalation"] is False
    assert pod.manifest["spec"]["securityContext"]["fsGroup"] == 100


def test_another_student_gets_another_volume(tmp_path, monkeypatch):
    _, manifest = build_pod(tmp_path, monkeypatch, student="grace")
    env = {e["name"]: e["value"] for e in manifest["spec"]["containers"][0]["env"]}
    claims = [v["persistentVolumeClaim"]["claimName"] for v in manifest["spec"]["volumes"]
              if v.get("persistentVolumeClaim")]
    assert env["JUPYTERHUB_USER"] == "grace" and claims == ["claim-grace"]


def test_the_check_fails_on_the_old_config(tmp_path, monkeypatch):
    """Without notebook_dir / working_dir the server's root is not the volume: the test above would fail."""
    old = yaml.safe_load(z2jh_chart.CONFIG.read_text())
    del old["hub"]["config"]["KubeSpawner"]
    _, manifest = build_pod(tmp_path, monkeypatch, config=old)
    container = manifest["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert "workingDir" not in container and "JUPYTERHUB_ROOT_DIR" not in env
