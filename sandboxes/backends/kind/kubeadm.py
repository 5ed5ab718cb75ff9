"""The cluster's kind configuration and the files it hands kubeadm (static Pod patches, the API
server's authorization chain): pure functions of the lab's choices, written into the node."""
from __future__ import annotations

from pathlib import Path

import yaml

from sandboxes.backends.kind import policy

POD_SUBNET = "10.244.0.0/16"  # kind's default; the node image's CNI hands out 10.244.0.0/24
# The CPU the control plane's static Pods request, lowered from kubeadm's defaults (250m, 200m,
# 100m, 100m: 650m of a 2-CPU node) so that the course's own workload fits on the one node of a
# small machine: my-app asks 250m per replica, and the kubectl lesson runs 5 of them plus a
# rolling update's surge. Requests only reserve scheduling room; the components still use what
# they need.
CONTROL_PLANE_CPU = {"kube-apiserver": "100m", "kube-controller-manager": "50m",
                     "kube-scheduler": "25m", "etcd": "50m"}
# node_files() are written into the cluster's directory and mounted read-only here in the node.
NODE_FILES_IN_NODE = "/kind/k8s-lab"
PATCHES_IN_NODE = f"{NODE_FILES_IN_NODE}/patches"
# The API server's own files, mounted into its static Pod.
APISERVER_FILES = "/etc/kubernetes/k8s-lab"
AUTHORIZATION_CONFIG = f"{APISERVER_FILES}/authorization.yaml"
REFUSER_KUBECONFIG = f"{APISERVER_FILES}/refuser.kubeconfig"
REFUSER_URL = ("https://127.0.0.1:1/k8s-lab/"
               "secrets-of-kube-system-and-lab-system-are-not-readable-in-this-lab")


def kubeadm_patches() -> dict[str, str]:
    """kubeadm patch files (strategic merge, one per static Pod), by file name."""
    return {f"{name}+strategic.yaml": yaml.safe_dump(
        {"spec": {"containers": [{"name": name, "resources": {"requests": {"cpu": cpu}}}]}})
        for name, cpu in CONTROL_PLANE_CPU.items()}


def authorization_config() -> dict:
    """The API server's authorizers: the Node authorizer and RBAC, as kubeadm's default, behind
    one that refuses what RBAC cannot (it only ever adds permissions): Secrets in the protected
    namespaces to the learner (policy.protected_secrets_conditions). That authorizer is a webhook
    that nobody serves: its match conditions pick the requests, and for those the API server,
    finding nothing at the address (connection refused, which it does not retry), falls back to
    its failure policy, Deny. Every other request skips it without a connection. (A denial that
    comes with an error reaches the client as an internal error, not as 403 Forbidden: a real
    403 would need a process answering here; the refusal holds either way.)"""
    return {
        "apiVersion": "apiserver.config.k8s.io/v1", "kind": "AuthorizationConfiguration",
        "authorizers": [
            {"type": "Webhook", "name": "k8s-lab-protected-secrets", "webhook": {
                "timeout": "2s", "authorizedTTL": "1s", "unauthorizedTTL": "1s",
                "subjectAccessReviewVersion": "v1",
                "matchConditionSubjectAccessReviewVersion": "v1",
                "failurePolicy": "Deny",
                "connectionInfo": {"type": "KubeConfigFile", "kubeConfigFile": REFUSER_KUBECONFIG},
                "matchConditions": [{"expression": e}
                                    for e in policy.protected_secrets_conditions()],
            }},
            {"type": "Node", "name": "node"},
            {"type": "RBAC", "name": "rbac"},
        ],
    }


def refuser_kubeconfig() -> dict:
    """Where the refusing authorizer "is": a loopback port in the node's network namespace, where
    nothing listens (binding it would take root on the node). No credentials: it is never asked.
    The API server answers a refused request with an internal error that quotes this address,
    so its path says why."""
    return {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "nobody", "cluster": {"server": REFUSER_URL}}],
        "users": [{"name": "kube-apiserver", "user": {}}],
        "contexts": [{"name": "nobody", "context": {"cluster": "nobody", "user": "kube-apiserver"}}],
        "current-context": "nobody",
    }


def node_files() -> dict[str, str]:
    """Every file the node gets from the lab, by path relative to NODE_FILES_IN_NODE."""
    files = {f"patches/{name}": text for name, text in kubeadm_patches().items()}
    files["apiserver/authorization.yaml"] = yaml.safe_dump(authorization_config(), sort_keys=False)
    files["apiserver/refuser.kubeconfig"] = yaml.safe_dump(refuser_kubeconfig(), sort_keys=False)
    return files


def write_node_files(directory: Path) -> None:
    for relative, text in node_files().items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def kind_config(node_files_dir: Path | None = None) -> str:
    """The cluster's kind configuration. The API server stays on 127.0.0.1 with a random port
    (kind's defaults, spelled out). kindnetd is off: the node image's own CNI configuration
    networks the pods. The kubelet is told to run on cgroup v1 hosts too: since 1.35 it refuses
    to unless failCgroupV1 is false (harmless on cgroup v2). With node_files_dir (the lab's
    clusters; the benchmark's plain kind cluster has none), kubeadm gets the lab's patches and
    the API server its authorization chain."""
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
    if node_files_dir is not None:
        config["nodes"][0]["extraMounts"] = [
            {"hostPath": str(node_files_dir), "containerPath": NODE_FILES_IN_NODE, "readOnly": True}]
        config["kubeadmConfigPatches"] += [
            yaml.safe_dump({"kind": "InitConfiguration",
                            "patches": {"directory": PATCHES_IN_NODE}}),
            # kubeadm leaves out its --authorization-mode when it is given --authorization-config
            # (the API server refuses both at once).
            yaml.safe_dump({"kind": "ClusterConfiguration", "apiServer": {
                "extraArgs": [{"name": "authorization-config", "value": AUTHORIZATION_CONFIG}],
                "extraVolumes": [{"name": "k8s-lab", "hostPath": f"{NODE_FILES_IN_NODE}/apiserver",
                                  "mountPath": APISERVER_FILES, "readOnly": True,
                                  "pathType": "Directory"}],
            }}),
        ]
    return yaml.safe_dump(config, sort_keys=False)
