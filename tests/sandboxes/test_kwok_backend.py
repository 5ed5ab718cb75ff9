"""The api tier's backend on real clusters made by the built toolchain (no fakes)."""
import json
import os
import subprocess
import threading
from pathlib import Path

import pytest
from django.conf import settings

from sandboxes.backends import BackendError, get_backend
from sandboxes.backends.kwok import KwokBackend
from tests.processes import wait_for
from tests.sandboxes.helpers import DEPLOYMENT, kubectl, pods_running, running_processes_of

pytestmark = pytest.mark.cluster


@pytest.fixture
def backend():
    created = []
    b = get_backend("api")
    b.created = created
    yield b
    for name in created:
        b.delete(name)


def _create(backend, name, steps=None):
    backend.created.append(name)
    return backend.create(name, lambda s, p, m: steps.append((s, p)) if steps is not None else None)


def test_a_cluster_has_a_ready_worker_runs_pods_and_is_deleted(backend):
    steps = []
    kubeconfig = _create(backend, "k8slab-test-life", steps)
    assert [p for _, p in steps] == sorted(p for _, p in steps), "progress only moves forward"
    nodes = json.loads(kubectl(kubeconfig, "get", "nodes", "-o", "json").stdout)["items"]
    assert [n["metadata"]["name"] for n in nodes] == ["worker-1"]
    node = nodes[0]
    assert any(c["type"] == "Ready" and c["status"] == "True" for c in node["status"]["conditions"])
    assert node["status"]["capacity"]["cpu"] == "4"
    assert node["status"]["nodeInfo"]["kubeletVersion"].startswith("v1.")
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("containerd://")
    kubectl(kubeconfig, "apply", "-f", "-", input=DEPLOYMENT)
    wait_for(lambda: pods_running(kubeconfig, "app=web", 3), 60, "3 Running pods")
    assert "k8slab-test-life" in backend.list_clusters()
    backend.delete("k8slab-test-life")
    assert "k8slab-test-life" not in backend.list_clusters()
    listed = subprocess.run([str(Path(settings.TOOLCHAIN_BIN) / "kwokctl"), "get", "clusters"],
                            capture_output=True, text=True, env={**os.environ, "KWOK_WORKDIR": str(backend.workdir)})
    assert "k8slab-test-life" not in listed.stdout
    assert running_processes_of("k8slab-test-life") == []


def test_every_component_listens_on_loopback_only(backend):
    _create(backend, "k8slab-test-loop")
    pids = {int(p.read_text()) for p in (backend.cluster_dir("k8slab-test-loop") / "pids").glob("*.pid")}
    assert len(pids) >= 5
    listening = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True).stdout
    mine = [line for line in listening.splitlines() if any(f"pid={pid}," in line for pid in pids)]
    assert mine, listening
    for line in mine:
        local = line.split()[3]
        assert local.startswith("127.0.0.1:"), f"a component listens beyond loopback: {line}"


def test_learners_cannot_create_kwok_exec_objects(backend):
    kubeconfig = _create(backend, "k8slab-test-crd")
    resources = kubectl(kubeconfig, "api-resources", "-o", "name").stdout.split()
    assert not [r for r in resources if "kwok.x-k8s.io" in r]
    exec_object = ("apiVersion: kwok.x-k8s.io/v1alpha1\nkind: ClusterExec\nmetadata: {name: x}\n"
                   "spec: {execs: [{local: {workDir: /}}]}\n")
    result = kubectl(kubeconfig, "apply", "-f", "-", input=exec_object, check=False)
    assert result.returncode != 0 and "ClusterExec" in result.stderr


def test_two_creates_at_once_do_not_collide_on_ports(backend):
    names = ["k8slab-test-par1", "k8slab-test-par2"]
    errors = []

    def make(name):
        try:
            _create(backend, name)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=make, args=(n,)) for n in names]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    servers = {kubectl(backend.kubeconfig(n), "config", "view", "--minify", "-o",
                       "jsonpath={.clusters[0].cluster.server}").stdout for n in names}
    assert len(servers) == 2


def test_a_missing_binary_is_a_clear_permanent_error(settings, tmp_path):
    settings.TOOLCHAIN_BIN = tmp_path
    backend = KwokBackend()
    assert "missing kwokctl" in backend.health()["error"]
    with pytest.raises(BackendError) as info:
        backend.create("k8slab-test-nobin", lambda *a: None)
    assert info.value.permanent
    assert "kwokctl is not installed" in str(info.value) and "make toolchain" in str(info.value)


def test_deleting_a_cluster_that_is_gone_is_success(backend):
    backend.delete("k8slab-never-existed")
