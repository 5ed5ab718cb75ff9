"""Tier `full`: a kind cluster (Kubernetes in Docker). One node container runs systemd,
containerd, the kubelet and a kubeadm control plane, so the learner gets real pods with real
logs and exec. Nothing is pulled: the node image (k8s-lab/kind-node:<version>, built by
`toolchain/full-tier.sh`) holds every image the cluster and the course use, and pod networking is
a CNI configuration inside that image (kind's own kindnetd image cannot be had offline).

The learner's shell is a toolbox pod inside the cluster (lab-system/toolbox), so kubectl there
talks to the learner's own cluster, with the learner's role and the lab's admission policies
(kind_policy.py) keeping it from reaching the node and, through it, the lab's host."""
from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from collections import deque
from functools import lru_cache
from pathlib import Path

import yaml
from django.conf import settings

from sandboxes.backends import kind_policy
from sandboxes.backends.base import Backend, BackendError, Progress
from sandboxes.backends.kubeapi import api_client, readyz, wait_until
from sandboxes.tools import ToolError, run, tool_path

POD_SUBNET = "10.244.0.0/16"  # kind's default; the node image's CNI hands out 10.244.0.0/24
TOOLBOX_NAMESPACE = "lab-system"
TOOLBOX_POD = "toolbox"
TOOLBOX_SERVICE_ACCOUNT = "toolbox"
MANAGED_BY = {"app.kubernetes.io/managed-by": "k8s-lab"}
FIX_DOCKER = "sudo toolchain/docker/ensure-docker.sh (or `make full-tier`)"
FIX_IMAGES = "sudo toolchain/full-tier.sh (or `make full-tier`)"

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


@lru_cache(maxsize=1)
def pinned_versions() -> dict[str, str]:
    """The pins in toolchain/versions.env (KEY=value lines), the same file the image build reads,
    so the backend asks for exactly the images that build made."""
    path = Path(settings.BASE_DIR) / "toolchain" / "versions.env"
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if match:
            pins[match.group(1)] = match.group(2).strip().strip('"').strip("'")
    return pins


def node_image() -> str:
    return getattr(settings, "KIND_NODE_IMAGE", "") or \
        f"k8s-lab/kind-node:{pinned_versions()['KUBERNETES_VERSION']}"


def toolbox_image() -> str:
    return getattr(settings, "KIND_TOOLBOX_IMAGE", "") or \
        f"k8s-lab/toolbox:{pinned_versions()['TOOLBOX_VERSION']}"


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

    def _env(self, network: str | None = None) -> dict:
        # kind runs `docker`; put the docker CLI the lab found first on its PATH.
        env = dict(os.environ)
        docker_dir = str(tool_path("docker").parent)
        env["PATH"] = docker_dir + os.pathsep + env.get("PATH", "")
        env["KIND_EXPERIMENTAL_PROVIDER"] = "docker"
        if network:
            # Each learner's node on a Docker network of its own (kind creates it): on kind's
            # shared "kind" network a Pod of one learner could reach another learner's node
            # (its API server, NodePorts); Docker isolates bridge networks from each other.
            env["KIND_EXPERIMENTAL_DOCKER_NETWORK"] = network
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
        kind, _ = self._tools()
        try:
            result = run([kind, "get", "clusters"], timeout=30, env=self._env())
        except ToolError as exc:
            raise BackendError(f"kind could not list clusters: {exc}") from None
        # With none, kind says "No kind clusters found." (on stderr) and exits 0.
        return sorted(line.strip() for line in result.stdout.splitlines()
                      if line.strip() and not line.startswith("No kind clusters"))

    def create(self, cluster: str, progress: Progress) -> Path:
        timeout = settings.SANDBOX_CREATE_TIMEOUT["full"]
        deadline = time.monotonic() + timeout
        kind, _ = self._tools()
        kubeconfig = self.kubeconfig(cluster)
        progress("check", 3, "Checking Docker and the node image")
        state = self.health()
        if not state["ok"]:
            # A missing image stays missing (permanent); Docker may be restarting (retry later).
            raise BackendError(state["error"], permanent="docker" in state)

        if not self._resume(cluster, kubeconfig):
            self.cluster_dir(cluster).mkdir(parents=True, exist_ok=True)
            config = self.cluster_dir(cluster) / "kind-config.yaml"
            patches = self.cluster_dir(cluster) / "kubeadm-patches"
            patches.mkdir(exist_ok=True)
            for name, text in kubeadm_patches().items():
                (patches / name).write_text(text)
            config.write_text(kind_config(patches))
            wait = max(30, int(deadline - time.monotonic()) - 60)
            argv = [kind, "create", "cluster", "--name", cluster, "--kubeconfig", kubeconfig,
                    "--image", node_image(), "--config", config, "--wait", f"{wait}s"]
            self._kind_create(argv, cluster, deadline, progress)

        self._confine_network(cluster)
        client = api_client(kubeconfig)
        from kubernetes import client as k8s

        core = k8s.CoreV1Api(client)
        # The toolbox pod first: its first start unpacks the toolbox image in the node's
        # containerd (about 8 s on 2 cores; the preloaded images are kept packed), and that can
        # run while the controller manager makes the default service account.
        progress("toolbox", 72, "Starting your toolbox pod (your shell inside the cluster)")
        self._ensure_toolbox(client)
        # One CoreDNS replica is plenty for one learner, and leaves its 100m CPU to their Pods.
        k8s.AppsV1Api(client).patch_namespaced_deployment_scale(
            "coredns", "kube-system", {"spec": {"replicas": 1}})
        progress("node-ready", 76, "Waiting for the node to be Ready")
        wait_until(lambda: _all_nodes_ready(core), deadline, "the node to be Ready")
        progress("accounts", 80, "Waiting for the default service account")
        # Until the controller manager creates it, every Pod in "default" is refused.
        wait_until(lambda: core.read_namespaced_service_account("default", "default"),
                   deadline, "the default service account")
        progress("toolbox-ready", 88, "Waiting for your toolbox pod")
        wait_until(lambda: _toolbox_running(core), deadline, "the toolbox pod to be Running",
                   interval=0.5, fatal=(BackendError,))
        # The learner's kubectl reaches the API server by its Service address: until kube-proxy
        # has written the rule for it, a connection would leave the node for the real network.
        progress("service-network", 96, "Waiting for the cluster's Service network")
        wait_until(lambda: self._api_service_routed(cluster), deadline,
                   "kube-proxy to route the kubernetes Service", interval=0.5)
        # CoreDNS is not waited for: it starts with the toolbox, and its readiness probe (every
        # 10 s) would add up to 10 s to every create for a service the learner needs later.
        return kubeconfig

    def delete(self, cluster: str) -> None:
        kind, _ = self._tools()
        kubeconfig = self.kubeconfig(cluster)
        # --kubeconfig: kind also removes the cluster's entry from a kubeconfig; name ours so it
        # never touches the operator's ~/.kube/config. A cluster that is gone is success.
        try:
            run([kind, "delete", "cluster", "--name", cluster, "--kubeconfig", kubeconfig],
                timeout=120, env=self._env())
        except ToolError as exc:
            raise BackendError(f"kind could not delete {cluster}: {exc}") from None
        self._release_network(cluster)
        # kind leaves the cluster's own network behind; one that is already gone is success.
        _, docker = self._tools()
        try:
            run([docker, "network", "rm", cluster], timeout=60)
        except ToolError as exc:
            if "not found" not in str(exc).lower():
                raise BackendError(f"could not remove the Docker network {cluster}: {exc}") from None
        shutil.rmtree(self.cluster_dir(cluster), ignore_errors=True)

    # Helpers -------------------------------------------------------------------------------------
    def _egress_rule(self, cluster: str) -> list[str] | None:
        """The host firewall rule that keeps the cluster's traffic on its own network: nothing
        from its node (and so from its Pods) is forwarded off the bridge, to the Internet or to
        another network, as the api tier's shells reach nothing but their API server. The lab
        reaches the node from the host itself, which forwarding does not touch."""
        _, docker = self._tools()
        try:
            network_id = run([docker, "network", "inspect", "-f", "{{.Id}}", cluster],
                             timeout=30).stdout.strip()
        except ToolError:
            return None
        bridge = f"br-{network_id[:12]}"
        return ["DOCKER-USER", "-i", bridge, "!", "-o", bridge, "-m", "comment", "--comment",
                f"k8s-lab {cluster}: no egress", "-j", "REJECT"]

    def _confine_network(self, cluster: str) -> None:
        rule = self._egress_rule(cluster)
        iptables = shutil.which("iptables")
        if rule is None or iptables is None or os.geteuid() != 0:
            raise BackendError("could not confine the cluster's network (needs root and "
                               f"iptables; run {FIX_DOCKER})", permanent=True)
        if subprocess.run([iptables, "-C", *rule], capture_output=True).returncode != 0:
            try:
                run([iptables, "-I", *rule], timeout=30)
            except ToolError as exc:
                raise BackendError(f"could not confine the cluster's network: {exc}") from None

    def _release_network(self, cluster: str) -> None:
        rule = self._egress_rule(cluster)
        iptables = shutil.which("iptables")
        if rule is None or iptables is None:
            return
        while subprocess.run([iptables, "-D", *rule], capture_output=True).returncode == 0:
            pass  # every copy (a retried create may have added one twice)
    def _api_service_routed(self, cluster: str) -> bool:
        _, docker = self._tools()
        try:
            rules = run([docker, "exec", f"{cluster}-control-plane", "iptables-save", "-t", "nat"],
                        timeout=20).stdout
        except ToolError:
            return False
        return "default/kubernetes:https" in rules

    def _resume(self, cluster: str, kubeconfig: Path) -> bool:
        """True when the cluster already exists and answers (a create resumed after a worker
        died); a half-made cluster that does not answer is deleted so it can be made again."""
        if cluster not in self.list_clusters():
            return False
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
                                    env=self._env(network=cluster), start_new_session=True)
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
                for marker, step, percent, message in KIND_STEPS:
                    if text.startswith("•") and marker in text:
                        progress(step, percent, message)
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        if code != 0:
            errors = [l for l in tail if l.startswith("ERROR") or "error" in l.lower()]
            said = " | ".join(errors[-3:] or list(tail)[-5:]) or "(no output)"
            raise BackendError(f"kind could not create {cluster} (exit {code}): {said} "
                               f"(log: {log_path})")

    def _ensure_toolbox(self, client) -> None:
        """The lab's admission policies and the learner's role, then the learner's shell: a
        namespace, a service account bound to that role, and a pod
        that sleeps until the terminal execs bash in it. Each object that exists already is
        left as it is."""
        from kubernetes import client as k8s
        from kubernetes.client.rest import ApiException

        core = k8s.CoreV1Api(client)
        rbac = k8s.RbacAuthorizationV1Api(client)
        admission = k8s.AdmissionregistrationV1Api(client)
        api_ip = core.read_namespaced_service("kubernetes", "default").spec.cluster_ip
        objects = [*kind_policy.manifests(), *toolbox_manifests(toolbox_image(), api_ip)]
        creators = {
            "ValidatingAdmissionPolicy": lambda o: admission.create_validating_admission_policy(o),
            "ValidatingAdmissionPolicyBinding":
                lambda o: admission.create_validating_admission_policy_binding(o),
            "ClusterRole": lambda o: rbac.create_cluster_role(o),
            "Namespace": lambda o: core.create_namespace(o),
            "ServiceAccount": lambda o: core.create_namespaced_service_account(TOOLBOX_NAMESPACE, o),
            "ClusterRoleBinding": lambda o: rbac.create_cluster_role_binding(o),
            "Pod": lambda o: core.create_namespaced_pod(TOOLBOX_NAMESPACE, o),
        }
        for obj in objects:
            try:
                creators[obj["kind"]](obj)
            except ApiException as exc:
                if exc.status != 409:
                    detail = ""
                    try:
                        detail = ": " + json.loads(exc.body or "{}").get("message", "")[:500]
                    except ValueError:
                        pass
                    raise BackendError(f"could not create the toolbox {obj['kind']}: "
                                       f"{exc.status} {exc.reason}{detail}") from None


# The CPU the control plane's static Pods request, lowered from kubeadm's defaults (250m, 200m,
# 100m, 100m: 650m of a 2-CPU node) so that the course's own workload fits on the one node of a
# small machine: my-app asks 250m per replica, and the kubectl lesson runs 5 of them plus a
# rolling update's surge. Requests only reserve scheduling room; the components still use what
# they need.
CONTROL_PLANE_CPU = {"kube-apiserver": "100m", "kube-controller-manager": "50m",
                     "kube-scheduler": "25m", "etcd": "50m"}
KUBEADM_PATCHES_IN_NODE = "/kind/k8s-lab-patches"


def kubeadm_patches() -> dict[str, str]:
    """kubeadm patch files (strategic merge, one per static Pod), by file name."""
    return {f"{name}+strategic.yaml": yaml.safe_dump(
        {"spec": {"containers": [{"name": name, "resources": {"requests": {"cpu": cpu}}}]}})
        for name, cpu in CONTROL_PLANE_CPU.items()}


def kind_config(patches: Path | None = None) -> str:
    """The cluster's kind configuration. The API server stays on 127.0.0.1 with a random port
    (kind's defaults, spelled out). kindnetd is off: the node image's own CNI configuration
    networks the pods. The kubelet is told to run on cgroup v1 hosts too: since 1.35 it refuses
    to unless failCgroupV1 is false (harmless on cgroup v2)."""
    config = {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "networking": {
            "apiServerAddress": "127.0.0.1",
            "apiServerPort": 0,
            "disableDefaultCNI": True,
            "podSubnet": POD_SUBNET,
        },
        "nodes": [{"role": "control-plane"}],
        "kubeadmConfigPatches": [
            "kind: KubeletConfiguration\nfailCgroupV1: false\n",
        ],
    }
    if patches is not None:
        config["nodes"][0]["extraMounts"] = [
            {"hostPath": str(patches), "containerPath": KUBEADM_PATCHES_IN_NODE, "readOnly": True}]
        config["kubeadmConfigPatches"].append(
            f"kind: InitConfiguration\npatches:\n  directory: {KUBEADM_PATCHES_IN_NODE}\n")
    return yaml.safe_dump(config, sort_keys=False)


def toolbox_manifests(image: str, api_ip: str) -> list[dict]:
    labels = {**MANAGED_BY, "app.kubernetes.io/name": "toolbox"}
    return [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": TOOLBOX_NAMESPACE, "labels": dict(MANAGED_BY)}},
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": TOOLBOX_SERVICE_ACCOUNT, "namespace": TOOLBOX_NAMESPACE,
                      "labels": labels}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "k8s-lab-toolbox", "labels": labels},
         # Not cluster-admin: the learner's role, held in by the lab's admission policies
         # (sandboxes/backends/kind_policy.py).
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": kind_policy.LEARNER_ROLE},
         "subjects": [{"kind": "ServiceAccount", "name": TOOLBOX_SERVICE_ACCOUNT,
                       "namespace": TOOLBOX_NAMESPACE}]},
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": TOOLBOX_POD, "namespace": TOOLBOX_NAMESPACE, "labels": labels},
         "spec": {
             "serviceAccountName": TOOLBOX_SERVICE_ACCOUNT,
             # sleep ignores SIGTERM as PID 1; there is nothing to shut down gracefully.
             "terminationGracePeriodSeconds": 1,
             "enableServiceLinks": False,
             # The learner's kubeconfig names the API server kubernetes.default.svc; resolve it
             # in /etc/hosts so kubectl works the moment the lab says ready, before CoreDNS is.
             "hostAliases": [{"ip": api_ip, "hostnames": ["kubernetes.default.svc",
                                                          "kubernetes.default"]}],
             "tolerations": [{"operator": "Exists"}],
             "securityContext": {"runAsUser": 1000, "runAsGroup": 1000, "runAsNonRoot": True},
             "containers": [{
                 "name": "toolbox",
                 "image": image,
                 # Preloaded in the node image; there is no registry to pull from.
                 "imagePullPolicy": "Never",
                 # The web terminal execs bash in it; the pod itself only has to stay up.
                 "command": ["sleep", "infinity"],
                 "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}},
             }],
         }},
    ]


def _toolbox_running(core) -> bool:
    pod = core.read_namespaced_pod(TOOLBOX_POD, TOOLBOX_NAMESPACE)
    for status in pod.status.container_statuses or []:
        waiting = status.state.waiting if status.state else None
        if waiting and waiting.reason in ("ErrImageNeverPull", "InvalidImageName",
                                          "CreateContainerConfigError"):
            raise BackendError(f"the toolbox pod cannot start: {waiting.reason}: {waiting.message} "
                               f"(rebuild the images with {FIX_IMAGES})", permanent=True)
    return pod.status.phase == "Running" and all(
        s.ready for s in (pod.status.container_statuses or []))


def _all_nodes_ready(core) -> bool:
    nodes = core.list_node().items
    return bool(nodes) and all(
        any(c.type == "Ready" and c.status == "True" for c in (n.status.conditions or []))
        for n in nodes)


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
