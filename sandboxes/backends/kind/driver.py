"""KindBackend: drives the kind CLI (create, delete, list this instance's clusters) and turns
kind's output into the learner's progress; the network, kubeadm and in-cluster parts are the
package's other modules."""
from __future__ import annotations

import os
import queue
import shutil
import subprocess
import threading
import time
from collections import deque
from pathlib import Path

from django.conf import settings

from sandboxes import names, tiers
from sandboxes.backends.base import Backend, BackendError, Progress
from sandboxes.backends.kind import bootstrap, kubeadm, network
from sandboxes.backends.kind.images import FIX_DOCKER, FIX_IMAGES, node_image, toolbox_image
from sandboxes.backends.kubeapi import api_client, readyz, wait_until
from sandboxes.tools import ToolError, run, tool_path

# kind prints one " • <step> ..." line per step when its output is not a terminal.
KIND_STEPS = (
    ("Ensuring node image", "node-image", 8, "Checking the node image"),
    ("Preparing nodes", "node", 12, "Starting the cluster's node container"),
    ("Writing configuration", "config", 30, "Writing the cluster configuration"),
    ("Starting control-plane", "control-plane", 35,
     "Starting etcd, the API server, the controller manager and the scheduler (kubeadm init)"),
    ("Installing StorageClass", "storage", 60, "Installing the default StorageClass"),
    ("Waiting", "node-ready", 65, "Waiting for the node to be Ready"),
)


class KindBackend(Backend):
    name = "kind"
    tier = "full"

    # Paths -------------------------------------------------------------------------------------
    @property
    def workdir(self) -> Path:
        return Path(settings.DATA_DIR) / "kind"

    def cluster_dir(self, cluster: str) -> Path:
        return self.workdir / cluster

    def kubeconfig(self, cluster: str) -> Path:
        return self.cluster_dir(cluster) / "kubeconfig"

    def _env(self, network_name: str | None = None) -> dict:
        # kind runs `docker`; put the docker CLI the lab found first on its PATH.
        env = dict(os.environ)
        docker_dir = str(tool_path("docker").parent)
        env["PATH"] = docker_dir + os.pathsep + env.get("PATH", "")
        env["KIND_EXPERIMENTAL_PROVIDER"] = "docker"
        if network_name:
            # Each learner's node on a Docker network of its own (network.ensure makes it,
            # labelled; kind uses it): on kind's shared "kind" network a Pod of one learner could
            # reach another learner's node; Docker isolates bridge networks from each other.
            env["KIND_EXPERIMENTAL_DOCKER_NETWORK"] = network_name
        return env

    def _tools(self) -> tuple[Path, Path]:
        try:
            return tool_path("kind"), tool_path("docker")
        except ToolError as exc:
            raise BackendError(f"{exc}; for docker run {FIX_DOCKER}", permanent=True) from None

    # Interface -----------------------------------------------------------------------------------
    def health(self) -> dict:
        try:
            kind, docker = self._tools()
        except BackendError as exc:
            return {"ok": False, "error": str(exc)}
        try:
            version = run([docker, "info", "--format", "{{.ServerVersion}}"], timeout=10).stdout.strip()
        except ToolError as exc:
            return {"ok": False, "error": f"Docker is not reachable ({exc}); run {FIX_DOCKER}"}
        image = node_image()
        try:
            run([docker, "image", "inspect", "--format", "{{.Id}}", image], timeout=10)
        except ToolError:
            return {"ok": False, "docker": version,
                    "error": f"the kind node image {image} is missing; build it with {FIX_IMAGES}"}
        report = {"ok": True, "docker": version, "node_image": image}
        instances = _read_int("/proc/sys/fs/inotify/max_user_instances")
        if instances is not None and instances < 512:
            report["warning"] = (f"fs.inotify.max_user_instances is {instances}; several clusters "
                                 f"need 512 (run {FIX_DOCKER})")
        return report

    def list_clusters(self) -> list[str]:
        """This instance's kind clusters: those on a Docker network it made. Other labs sharing
        the Docker host have clusters with the same prefix; they are not this one's to touch."""
        _, docker = self._tools()
        return sorted(set(self._kind_clusters()) & network.owned_networks(docker))

    def create(self, cluster: str, progress: Progress) -> Path:
        timeout = tiers.get(self.tier).create_timeout
        deadline = time.monotonic() + timeout
        kind, docker = self._tools()
        kubeconfig = self.kubeconfig(cluster)
        progress("check", 3, "Checking Docker and the node image")
        state = self.health()
        if not state["ok"]:
            # A missing image stays missing (permanent); Docker may be restarting (retry later).
            raise BackendError(state["error"], permanent="docker" in state)

        if not self._resume(cluster, kubeconfig):
            node_files = self.cluster_dir(cluster) / "node-files"
            node_files.mkdir(parents=True, exist_ok=True)
            kubeadm.write_node_files(node_files)
            config = self.cluster_dir(cluster) / "kind-config.yaml"
            config.write_text(kubeadm.kind_config(node_files))
            # The network and its firewall rules exist before the node does: it never has a
            # moment in which it could reach the host.
            network.ensure(docker, cluster)
            network.confine(docker, cluster)
            wait = max(30, int(deadline - time.monotonic()) - 60)
            argv = [kind, "create", "cluster", "--name", cluster, "--kubeconfig", kubeconfig,
                    "--image", node_image(), "--config", config, "--wait", f"{wait}s"]
            self._kind_create(argv, cluster, deadline, progress)
        else:
            network.confine(docker, cluster)

        client = api_client(kubeconfig)
        from kubernetes import client as k8s

        core = k8s.CoreV1Api(client)
        # Before the learner's role is bound: nothing left to join a node with.
        bootstrap.remove_join_credentials(client)
        # The toolbox pod first: its first start unpacks the toolbox image in the node's
        # containerd (about 8 s on 2 cores; the preloaded images are kept packed), and that can
        # run while the controller manager makes the default service account.
        progress("toolbox", 72, "Starting your toolbox pod (your shell inside the cluster)")
        bootstrap.install(client, toolbox_image())
        # One CoreDNS replica is plenty for one learner, and leaves its 100m CPU to their Pods.
        k8s.AppsV1Api(client).patch_namespaced_deployment_scale(
            "coredns", "kube-system", {"spec": {"replicas": 1}})
        progress("node-ready", 76, "Waiting for the node to be Ready")
        wait_until(lambda: bootstrap.all_nodes_ready(core), deadline, "the node to be Ready")
        progress("accounts", 80, "Waiting for the default service account")
        # Until the controller manager creates it, every Pod in "default" is refused.
        wait_until(lambda: core.read_namespaced_service_account("default", "default"),
                   deadline, "the default service account")
        progress("toolbox-ready", 88, "Waiting for your toolbox pod")
        wait_until(lambda: bootstrap.toolbox_running(core), deadline,
                   "the toolbox pod to be Running", interval=0.5, fatal=(BackendError,))
        # The learner's kubectl reaches the API server by its Service address: until kube-proxy
        # has written the rule for it, a connection would leave the node for the real network.
        progress("service-network", 96, "Waiting for the cluster's Service network")
        wait_until(lambda: self._api_service_routed(cluster), deadline,
                   "kube-proxy to route the kubernetes Service", interval=0.5)
        # CoreDNS is not waited for: it starts with the toolbox, and its readiness probe (every
        # 10 s) would add up to 10 s to every create for a service the learner needs later.
        return kubeconfig

    def delete(self, cluster: str) -> None:
        kind, docker = self._tools()
        if network.owned_by_another_instance(network.labels_of(docker, cluster)):
            raise BackendError(f"{cluster} belongs to another lab instance on this Docker host; "
                               "it is not this one's to delete", permanent=True)
        kubeconfig = self.kubeconfig(cluster)
        # --kubeconfig: kind also removes the cluster's entry from a kubeconfig; name ours so it
        # never touches the operator's ~/.kube/config. A cluster that is gone is success.
        try:
            run([kind, "delete", "cluster", "--name", cluster, "--kubeconfig", kubeconfig],
                timeout=120, env=self._env())
        except ToolError as exc:
            raise BackendError(f"kind could not delete {cluster}: {exc}") from None
        network.release(cluster)
        network.remove(docker, cluster)
        shutil.rmtree(self.cluster_dir(cluster), ignore_errors=True)

    # Helpers -------------------------------------------------------------------------------------
    def _kind_clusters(self) -> list[str]:
        """Every kind cluster on the Docker host, this instance's or not."""
        kind, _ = self._tools()
        try:
            result = run([kind, "get", "clusters"], timeout=30, env=self._env())
        except ToolError as exc:
            raise BackendError(f"kind could not list clusters: {exc}") from None
        # With none, kind says "No kind clusters found." (on stderr) and exits 0.
        return [line.strip() for line in result.stdout.splitlines()
                if line.strip() and not line.startswith("No kind clusters")]

    def _api_service_routed(self, cluster: str) -> bool:
        _, docker = self._tools()
        try:
            rules = run([docker, "exec", f"{cluster}-control-plane", "iptables-save", "-t", "nat"],
                        timeout=20).stdout
        except ToolError:
            return False
        return "default/kubernetes:https" in rules

    def _resume(self, cluster: str, kubeconfig: Path) -> bool:
        """True when this instance's cluster already exists and answers (a create resumed after
        a worker died); a half-made one that does not answer is deleted so it can be made again.
        A cluster of that name that is another instance's is refused, never adopted."""
        if cluster not in self._kind_clusters():
            return False
        if cluster not in self.list_clusters():
            raise BackendError(f"a kind cluster named {cluster} exists that this lab instance "
                               f"({names.instance_id()}) did not make; it is left alone",
                               permanent=True)
        kind, _ = self._tools()
        try:
            run([kind, "export", "kubeconfig", "--name", cluster, "--kubeconfig", kubeconfig],
                timeout=30, env=self._env())
            if readyz(api_client(kubeconfig), timeout=3):
                return True
        except Exception:  # noqa: BLE001 - anything but a clean answer means "make it again"
            pass
        self.delete(cluster)
        return False

    def _kind_create(self, argv: list, cluster: str, deadline: float, progress: Progress) -> None:
        """Run `kind create cluster`, turning its step lines into progress as they come. kind's
        own log is kept in the cluster's directory; on failure its last lines are the error."""
        log_path = self.cluster_dir(cluster) / "kind-create.log"
        lines: queue.Queue = queue.Queue()
        tail: deque = deque(maxlen=15)
        argv = [str(a) for a in argv]
        try:
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, text=True, errors="replace",
                                    env=self._env(network_name=cluster), start_new_session=True)
        except FileNotFoundError:
            raise BackendError(f"{argv[0]} is not installed", permanent=True) from None

        def pump():
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        # Progress is reported from this thread only: it writes to the database.
        done = False
        with open(log_path, "a") as log:
            log.write("$ " + " ".join(argv) + "\n")
            while not done:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    _kill_group(proc)
                    raise BackendError(f"kind create cluster {cluster} timed out: "
                                       f"{' | '.join(tail) or '(no output)'}")
                try:
                    line = lines.get(timeout=min(1.0, remaining))
                except queue.Empty:
                    continue
                if line is None:
                    done = True
                    continue
                log.write(line)
                text = line.strip()
                if text:
                    tail.append(text)
                step = progress_step(text)
                if step:
                    progress(*step)
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        if code != 0:
            errors = [line for line in tail if line.startswith("ERROR") or "error" in line.lower()]
            said = " | ".join(errors[-3:] or list(tail)[-5:]) or "(no output)"
            raise BackendError(f"kind could not create {cluster} (exit {code}): {said} "
                               f"(log: {log_path})")


def progress_step(line: str) -> tuple[str, int, str] | None:
    """The (step, percent, message) a line of kind's output announces, if it is a step line."""
    for marker, step, percent, message in KIND_STEPS:
        if line.startswith("•") and marker in line:
            return step, percent, message
    return None


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, 9)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def _read_int(path: str) -> int | None:
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return None
