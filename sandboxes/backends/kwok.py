"""Tier `api`: a real control plane (etcd, kube-apiserver, kube-controller-manager,
kube-scheduler) run as local processes by kwokctl's binary runtime, with kwok making the
learner's worker node and its pods look alive. No container really runs."""
from __future__ import annotations

import fcntl
import os
import random
import shutil
import signal
import socket
import time
from contextlib import contextmanager
from pathlib import Path

import yaml
from django.conf import settings

from sandboxes import tiers
from sandboxes.backends.base import Backend, BackendError, Progress
from sandboxes.backends.kubeapi import api_client, readyz, wait_until
from sandboxes.tools import ToolError, run, tool_path

PORT_KEYS = ("kubeApiserverPort", "etcdPort", "etcdPeerPort", "kwokControllerPort",
             "kubeControllerManagerPort", "kubeSchedulerPort")
PORT_RANGE = (20000, 31999)  # below the kernel's ephemeral range (32768+) and kwokctl's own scan
REQUIRED_BINARIES = ("kwokctl", "kwok", "kube-apiserver", "kube-controller-manager",
                     "kube-scheduler", "etcd", "etcdctl", "etcdutl", "kubectl")
NODE_NAME = "worker-1"
# kwokctl start forks what has died and then waits (up to two minutes by default) for the API
# server to serve; a restart that has not served by this time will not.
RESTART_TIMEOUT = 45


class KwokBackend(Backend):
    name = "kwok"
    tier = "api"

    # Paths -------------------------------------------------------------------------------------
    @property
    def workdir(self) -> Path:
        return Path(settings.DATA_DIR) / "kwok"

    def cluster_dir(self, cluster: str) -> Path:
        return self.workdir / "clusters" / cluster

    def kubeconfig(self, cluster: str) -> Path:
        return self.cluster_dir(cluster) / "kubeconfig.yaml"

    def _env(self) -> dict:
        # kwokctl keeps every cluster's files, pids and logs under KWOK_WORKDIR, and runs the
        # kubectl it finds on PATH before the one its configuration names.
        return {**os.environ, "KWOK_WORKDIR": str(self.workdir),
                "PATH": f"{settings.TOOLCHAIN_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}"}

    def _config_file(self, cluster: str) -> Path:
        """kwokctl's configuration: local binaries only (nothing may be downloaded), every
        component bound to loopback (its default 0.0.0.0 would expose an unauthenticated etcd).
        No kwok CRDs are enabled: Exec and ClusterExec objects would run commands on the host,
        so a learner with cluster-admin must never be able to create them."""
        bin_dir = Path(settings.TOOLCHAIN_BIN)
        config = {
            "apiVersion": "config.kwok.x-k8s.io/v1alpha1",
            "kind": "KwokctlConfiguration",
            "options": {
                "runtime": "binary",
                "bindAddress": "127.0.0.1",
                "kubeVersion": "v" + tool_version("kube-apiserver"),
                "kubeBinaryPrefix": str(bin_dir),
                "kubectlBinary": str(bin_dir / "kubectl"),
                "kwokControllerBinary": str(bin_dir / "kwok"),
                "etcdBinary": str(bin_dir / "etcd"),
                "etcdctlBinary": str(bin_dir / "etcdctl"),
                "etcdutlBinary": str(bin_dir / "etcdutl"),
                # kwokctl only avoids the ports of clusters in its own work dir; other labs, test
                # runs and benchmarks on this host have their own. Every port is chosen here,
                # free at the time, under the host-wide create lock.
                **dict(zip(PORT_KEYS, free_ports(len(PORT_KEYS)))),
            },
            # Bound to loopback, the API server cannot pick an address to advertise on a host
            # with no default route; a never-routed documentation address keeps it starting.
            "componentsPatches": [{"name": "kube-apiserver",
                                   "extraArgs": [{"key": "advertise-address", "value": "192.0.2.1"}]}],
        }
        path = self.workdir / "configs" / f"{cluster}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    # Interface -----------------------------------------------------------------------------------
    def health(self) -> dict:
        missing = []
        for binary in REQUIRED_BINARIES:
            try:
                tool_path(binary)
            except ToolError:
                missing.append(binary)
        if missing:
            return {"ok": False, "error": f"missing {', '.join(missing)} in "
                                          f"{settings.TOOLCHAIN_BIN} (run `make toolchain`)"}
        return {"ok": True}

    def list_clusters(self) -> list[str]:
        clusters = self.workdir / "clusters"
        if not clusters.is_dir():
            return []
        return sorted(d.name for d in clusters.iterdir() if d.is_dir())

    def create(self, cluster: str, progress: Progress) -> Path:
        timeout = tiers.get(self.tier).create_timeout
        deadline = time.monotonic() + timeout
        try:
            kwokctl = tool_path("kwokctl")
        except ToolError as exc:
            raise BackendError(str(exc), permanent=True) from None
        kubeconfig = self.kubeconfig(cluster)
        if not self.answers(cluster):
            progress("queue", 5, "Waiting for a turn to start the control plane")
            # kwokctl picks free ports by scanning down from 32767; two creates at once pick the
            # same ones. Only one create per host binds its ports at a time (a few seconds). The
            # lock lives in the toolchain cache, shared by every lab, test run and benchmark on
            # this machine, whatever their data directories.
            with _host_lock(Path(settings.LAB_CACHE) / "locks" / "kwokctl-create.lock", deadline):
                progress("control-plane", 15, "Starting etcd, the API server, the scheduler and "
                                              "the controller manager")
                try:
                    run([kwokctl, "create", "cluster", "--name", cluster,
                         "--config", self._config_file(cluster),
                         # kwokctl would otherwise merge the cluster into ~/.kube/config.
                         "--kubeconfig", str(self.cluster_dir(cluster) / "unused-kubeconfig"),
                         "--runtime", "binary", "--quiet-pull"],
                        timeout=max(10, deadline - time.monotonic()), env=self._env())
                except ToolError as exc:
                    raise BackendError(f"kwokctl could not create {cluster}: {exc}") from None
                progress("api-ready", 50, "Waiting for the API server to answer /readyz")
                self._wait_ready(cluster, kubeconfig, deadline)
        client = api_client(kubeconfig)
        progress("node", 70, f"Adding the worker node {NODE_NAME}")
        self._ensure_node(client, cluster)
        progress("node-ready", 85, f"Waiting for {NODE_NAME} to be Ready")
        from kubernetes import client as k8s

        core = k8s.CoreV1Api(client)
        wait_until(lambda: _node_ready(core.read_node(NODE_NAME)), deadline,
                   f"node {NODE_NAME} to be Ready")
        progress("accounts", 95, "Waiting for the default service account")
        # Until the controller manager creates it, every Pod in "default" is refused.
        wait_until(lambda: core.read_namespaced_service_account("default", "default"),
                   deadline, "the default service account")
        return kubeconfig

    def delete(self, cluster: str) -> None:
        if self.cluster_dir(cluster).exists():
            try:
                run([tool_path("kwokctl"), "delete", "cluster", "--name", cluster,
                     "--kubeconfig", str(self.cluster_dir(cluster) / "unused-kubeconfig")],
                    timeout=60, env=self._env())
            except ToolError as exc:
                raise BackendError(f"kwokctl could not delete {cluster}: {exc}") from None
        # kwokctl stops nothing when the cluster's kwok.yaml (or its whole directory) is gone,
        # yet its processes may still run: end them and the directory, so no process, port or
        # etcd outlives the sandbox.
        for pid in self._pids(cluster):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.cluster_dir(cluster), ignore_errors=True)
        (self.workdir / "configs" / f"{cluster}.yaml").unlink(missing_ok=True)

    def restart(self, cluster: str) -> None:
        """`kwokctl start cluster` starts again each component whose process has died (it reads
        their pid files); etcd's data stays, so the learner's objects do too."""
        if not (self.cluster_dir(cluster) / "kwok.yaml").is_file():
            raise BackendError(f"{cluster} has no kwokctl configuration left to start it from",
                               permanent=True)
        # --timeout ends only kwokctl's own wait for the API server (the components are forked
        # detached, with a context of their own); the caller then waits for /readyz itself.
        try:
            run([tool_path("kwokctl"), "start", "cluster", "--name", cluster,
                 "--timeout", f"{RESTART_TIMEOUT}s"], timeout=RESTART_TIMEOUT + 30, env=self._env())
        except ToolError as exc:
            raise BackendError(f"kwokctl could not start {cluster} again: {exc}") from None

    def memory_bytes(self, cluster: str) -> int | None:
        """Resident memory of the cluster's processes (etcd, API server, controllers, kwok)."""
        total = 0
        for pid in self._pids(cluster):
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except OSError:
                continue
        return total or None

    def _pids(self, cluster: str) -> list[int]:
        """The processes running from the cluster's directory (each component's command line
        names files in it). The full path: another lab or test run may have a cluster of the
        same name in its own work dir."""
        marker = f"{self.cluster_dir(cluster)}/".encode()
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and marker in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    # Helpers -------------------------------------------------------------------------------------
    def _wait_ready(self, cluster: str, kubeconfig: Path, deadline: float) -> None:
        """Wait for /readyz (kwokctl exits 0 even when a component failed), but give up at once
        when etcd or the API server has died, saying what its log said."""
        client = api_client(kubeconfig)

        def ready():
            for component in ("etcd", "kube-apiserver"):
                if not self._component_alive(cluster, component):
                    log = self.cluster_dir(cluster) / "logs" / f"{component}.log"
                    last = _last_error_line(log)
                    raise BackendError(f"{component} of {cluster} exited: {last}")
            return readyz(client, timeout=2)

        wait_until(ready, deadline, "the API server's /readyz", fatal=(BackendError,))

    def _component_alive(self, cluster: str, component: str) -> bool:
        pid_file = self.cluster_dir(cluster) / "pids" / f"{component}.pid"
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            return True  # not started yet: nothing to judge
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def _ensure_node(self, client, cluster: str) -> None:
        from kubernetes import client as k8s
        from kubernetes.client.rest import ApiException

        core = k8s.CoreV1Api(client)
        try:
            core.create_node(node_manifest(cluster))
        except ApiException as exc:
            if exc.status != 409:  # already there (a resumed create) is fine
                raise BackendError(f"could not create node {NODE_NAME}: {exc.reason}") from None


def free_ports(count: int) -> list[int]:
    """count distinct loopback ports in PORT_RANGE that nothing listens on or uses right now."""
    chosen: list[int] = []
    rng = random.SystemRandom()
    while len(chosen) < count:
        port = rng.randint(*PORT_RANGE)
        if port in chosen:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        chosen.append(port)
    return chosen


@contextmanager
def _host_lock(path: Path, deadline: float):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise BackendError("timed out waiting for another cluster to start") from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _last_error_line(log: Path) -> str:
    try:
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "(no log)"
    errors = [line for line in lines if " E" in line[:12] or "error" in line.lower()]
    return (errors or lines or ["(empty log)"])[-1][-400:]


def _node_ready(node) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (node.status.conditions or []))


def node_manifest(cluster: str) -> dict:
    """A Node that looks like a real worker: kwok (selected by the annotation) keeps it Ready and
    runs its pods' status; capacity and nodeInfo are what `kubectl describe node` shows."""
    kube_version = "v" + tool_version("kube-apiserver")
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": NODE_NAME,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "kubernetes.io/hostname": NODE_NAME, "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64", "node-role.kubernetes.io/worker": "",
                "type": "kwok", "app.kubernetes.io/managed-by": "k8s-lab",
            },
        },
        "spec": {},
        "status": {
            "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"},
            "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"},
            "nodeInfo": {
                "architecture": "amd64", "operatingSystem": "linux",
                "osImage": "Debian GNU/Linux 12 (bookworm)", "kernelVersion": os.uname().release,
                "containerRuntimeVersion": "containerd://1.6.20", "kubeletVersion": kube_version,
                "kubeProxyVersion": kube_version,
                "machineID": cluster, "systemUUID": cluster, "bootID": cluster,
            },
            "addresses": [{"type": "InternalIP", "address": "10.0.0.11"},
                          {"type": "Hostname", "address": NODE_NAME}],
        },
    }


_versions: dict[str, str] = {}


def tool_version(binary: str) -> str:
    """The pinned version a toolchain binary reports, without the leading v."""
    if binary not in _versions:
        out = run([tool_path(binary), "--version"], timeout=20).stdout.split()
        _versions[binary] = out[-1].lstrip("v")
    return _versions[binary]
