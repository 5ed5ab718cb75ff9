"""The learner in their full-tier cluster: free to work in their own namespaces and to read the
control plane, but unable to reach the node (and through it the lab's host): no privileged or
host-namespace Pods, no hostPath, no `kubectl debug node`, no exec or writes in kube-system, no
kubelet API, and no way to lift these rules. Every command runs as the learner, through their
toolbox pod, with the learner's own credentials. Real Docker and kind; skipped where the full
tier is not built."""
import json

import pytest

from sandboxes.backends.kind import TOOLBOX_NAMESPACE, TOOLBOX_POD
from tests.sandboxes.helpers import kind_clusters_or_skip, kubectl

pytestmark = [pytest.mark.cluster]
CLUSTER = "k8slab-test-confine"


@pytest.fixture(scope="module")
def admin_kubeconfig():
    with kind_clusters_or_skip(CLUSTER) as clusters:
        yield clusters[CLUSTER]


def as_learner(admin_kubeconfig, *command, stdin: str | None = None):
    """A command in the learner's toolbox shell, as the learner would type it."""
    argv = ["exec", "-i" if stdin else "-t=false", "-n", TOOLBOX_NAMESPACE, TOOLBOX_POD, "--", *command]
    return kubectl(admin_kubeconfig, *argv, input=stdin, check=False)


def pod(name: str, **spec) -> str:
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "app", "image": "myrepo/my-app:1.0"}], **spec}}
    return json.dumps(body)


def test_the_learner_works_freely_in_their_own_namespaces(admin_kubeconfig):
    for command in (["kubectl", "create", "namespace", "production"],
                    ["kubectl", "create", "deployment", "my-app", "-n", "production",
                     "--image=myrepo/my-app:1.0", "--replicas=2"],
                    ["kubectl", "get", "pods", "-n", "kube-system"],
                    ["kubectl", "get", "nodes"],
                    ["kubectl", "create", "clusterrole", "reader", "--verb=get", "--resource=pods"]):
        result = as_learner(admin_kubeconfig, *command)
        assert result.returncode == 0, (command, result.stderr)
    etcd = as_learner(admin_kubeconfig, "kubectl", "get", "pods", "-n", "kube-system",
                      "-l", "component=etcd", "-o", "name").stdout.strip()
    logs = as_learner(admin_kubeconfig, "kubectl", "logs", "-n", "kube-system", etcd, "--tail=1")
    assert logs.returncode == 0, logs.stderr


@pytest.mark.parametrize("name,spec,words", [
    ("privileged", {"containers": [{"name": "app", "image": "myrepo/my-app:1.0",
                                    "securityContext": {"privileged": True}}]}, "privileged"),
    ("hostpid", {"hostPID": True}, "node's network, PID or IPC"),
    ("hostnet", {"hostNetwork": True}, "node's network, PID or IPC"),
    ("hostpath", {"volumes": [{"name": "root", "hostPath": {"path": "/"}}]}, "hostPath"),
    ("sysadmin", {"containers": [{"name": "app", "image": "myrepo/my-app:1.0", "securityContext":
                                  {"capabilities": {"add": ["SYS_ADMIN"]}}}]}, "capabilities"),
    ("hostport", {"containers": [{"name": "app", "image": "myrepo/my-app:1.0",
                                  "ports": [{"containerPort": 3000, "hostPort": 8080}]}]}, "hostPort"),
])
def test_no_pod_may_reach_the_node(admin_kubeconfig, name, spec, words):
    result = as_learner(admin_kubeconfig, "kubectl", "apply", "-f", "-", stdin=pod(name, **spec))
    assert result.returncode != 0 and words in result.stderr, result


def test_the_node_and_the_control_plane_stay_out_of_reach(admin_kubeconfig):
    node = as_learner(admin_kubeconfig, "kubectl", "get", "nodes", "-o", "name").stdout.strip()
    denied = {
        "debug node": ["kubectl", "debug", node, "--image=myrepo/my-app:1.0", "--", "true"],
        "exec in kube-system": ["kubectl", "exec", "-n", "kube-system",
                                node.replace("node/", "etcd-"), "--", "true"],
        "delete in kube-system": ["kubectl", "delete", "pod", "-n", "kube-system", "-l", "k8s-app=kube-proxy"],
        "token in kube-system": ["kubectl", "create", "token", "-n", "kube-system", "daemon-set-controller"],
        "kubelet API": ["kubectl", "get", "--raw", f"/api/v1/nodes/{node.split('/')[1]}/proxy/pods"],
        "lift the policies": ["kubectl", "delete", "validatingadmissionpolicies", "--all"],
        "become cluster-admin": ["kubectl", "create", "clusterrolebinding", "me",
                                 "--clusterrole=cluster-admin",
                                 f"--serviceaccount={TOOLBOX_NAMESPACE}:toolbox"],
        "delete the shell": ["kubectl", "delete", "pod", "-n", TOOLBOX_NAMESPACE, TOOLBOX_POD],
    }
    for what, command in denied.items():
        result = as_learner(admin_kubeconfig, *command)
        assert result.returncode != 0, (what, result.stdout, result.stderr)
        # Refused by RBAC or by the lab's policies, not failing for some other reason.
        assert "forbidden" in result.stderr.lower() or "denied" in result.stderr.lower(), \
            (what, result.stderr)
    # The shell is still there, and so is kube-proxy.
    assert as_learner(admin_kubeconfig, "true").returncode == 0
    proxies = kubectl(admin_kubeconfig, "get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-proxy",
                      "-o", "name").stdout
    assert "kube-proxy" in proxies
