"""The learner in their full-tier cluster: free to work in their own namespaces and to read the
control plane, but unable to reach the node (and through it the lab's host): no privileged or
host-namespace Pods in any namespace they can make, no volume that reaches the node (inline or
through a PersistentVolume), no `kubectl debug node`, no exec, writes or Secrets in kube-system,
no kubelet API, no node identity, and no way to lift these rules. Every command runs as the
learner, through their toolbox pod, with the learner's own credentials (or one they minted).
Real Docker and kind; skipped where the full tier is not built."""
import base64
import json
import subprocess
import time

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


def pod(name: str, namespace: str = "default", **spec) -> str:
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace},
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


# Item: no namespace is a way around the Pod rules ------------------------------------------------
ROOT_ON_THE_NODE = {  # the attack: root with every capability, the node's PIDs and its files
    "hostPID": True,
    "containers": [{"name": "app", "image": "myrepo/my-app:1.0",
                    "securityContext": {"privileged": True},
                    "volumeMounts": [{"name": "root", "mountPath": "/host"}]}],
    "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
}
WEAKER = {
    "privileged-only": {"containers": [{"name": "app", "image": "myrepo/my-app:1.0",
                                        "securityContext": {"privileged": True}}]},
    "hostpid-only": {"hostPID": True},
    "hostpath-only": {"volumes": [{"name": "etc", "hostPath": {"path": "/etc"}}]},
}


@pytest.mark.parametrize("namespace", ["local-path-storage", "kube-public", "k8s-lab-anything"])
def test_no_namespace_the_learner_can_make_or_use_is_exempt(admin_kubeconfig, namespace):
    made = as_learner(admin_kubeconfig, "kubectl", "create", "namespace", namespace)
    assert made.returncode == 0 or "AlreadyExists" in made.stderr, made.stderr
    for name, spec in {"root-on-the-node": ROOT_ON_THE_NODE, **WEAKER}.items():
        result = as_learner(admin_kubeconfig, "kubectl", "apply", "-f", "-",
                            stdin=pod(name, namespace, **spec))
        assert result.returncode != 0, (name, result.stdout)
        # The refusal says what is refused and that no namespace of theirs is an exception.
        assert "in this lab" in result.stderr and \
            "every namespace but kube-system" in result.stderr, (name, result.stderr)
    left = as_learner(admin_kubeconfig, "kubectl", "get", "pods", "-n", namespace, "-o", "name")
    assert left.returncode == 0 and left.stdout.strip() == ""


# Item: no volume reaches the node ------------------------------------------------------------------
NODE_REACHING_PV_SOURCES = {
    "hostpath-root": {"hostPath": {"path": "/"}},
    "hostpath-provisioner-dir": {"hostPath": {"path": "/tmp/hostpath_pv"}},
    "local": {"local": {"path": "/etc"}, "nodeAffinity": {"required": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}]}}},
    "nfs": {"nfs": {"server": "127.0.0.1", "path": "/"}},
    "iscsi": {"iscsi": {"targetPortal": "127.0.0.1:3260", "iqn": "iqn.2001-04.org.example:lab",
                        "lun": 0}},
    "fc": {"fc": {"wwids": ["3600508b400105e210000900000490000"]}},
    "flexvolume": {"flexVolume": {"driver": "example.org/none"}},
}
NODE_REACHING_INLINE_VOLUMES = {k: v for k, v in NODE_REACHING_PV_SOURCES.items()
                                if k in ("nfs", "iscsi", "fc", "flexvolume")}


def persistent_volume(name: str, source: dict) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name},
                       "spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                                "storageClassName": "", **source}})


@pytest.mark.parametrize("name", sorted(NODE_REACHING_PV_SOURCES))
def test_no_persistent_volume_of_the_learner_reaches_the_node(admin_kubeconfig, name):
    result = as_learner(admin_kubeconfig, "kubectl", "apply", "-f", "-",
                        stdin=persistent_volume(name, NODE_REACHING_PV_SOURCES[name]))
    assert result.returncode != 0 and "PersistentVolumes you create may only be csi" in \
        result.stderr, result
    gone = as_learner(admin_kubeconfig, "kubectl", "get", "pv", name)
    assert gone.returncode != 0 and "NotFound" in gone.stderr


def test_a_claim_on_a_refused_volume_leads_nowhere_and_csi_volumes_are_allowed(admin_kubeconfig):
    # The whole attack: the hostPath "/" volume, a claim bound to it by name, a Pod using that.
    as_learner(admin_kubeconfig, "kubectl", "apply", "-f", "-",
               stdin=persistent_volume("node-root", NODE_REACHING_PV_SOURCES["hostpath-root"]))
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
             "metadata": {"name": "node-root", "namespace": "default"},
             "spec": {"volumeName": "node-root", "storageClassName": "",
                      "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
    assert as_learner(admin_kubeconfig, "kubectl", "apply", "-f", "-",
                      stdin=json.dumps(claim)).returncode == 0
    uses = pod("uses-node-root",
               volumes=[{"name": "v", "persistentVolumeClaim": {"claimName": "node-root"}}])
    assert as_learner(admin_kubeconfig, "kubectl", "apply", "-f", "-", stdin=uses).returncode == 0
    # The volume was never made, so the claim has nothing to bind and the Pod nothing to mount.
    assert as_learner(admin_kubeconfig, "kubectl", "get", "pv", "node-root").returncode != 0
    phase = kubectl(admin_kubeconfig, "get", "pvc", "node-root", "-o", "jsonpath={.status.phase}")
    assert phase.stdout == "Pending"
    kubectl(admin_kubeconfig, "delete", "pod", "uses-node-root", "--wait=false")
    kubectl(admin_kubeconfig, "delete", "pvc", "node-root", "--wait=false")
    # A CSI volume is allowed: it mounts nothing without a driver, and no Pod can register one.
    csi = persistent_volume("csi-is-fine", {"csi": {"driver": "none.example.org", "volumeHandle": "x"}})
    assert as_learner(admin_kubeconfig, "kubectl", "apply", "-f", "-", stdin=csi).returncode == 0
    kubectl(admin_kubeconfig, "delete", "pv", "csi-is-fine")


@pytest.mark.parametrize("name", sorted(NODE_REACHING_INLINE_VOLUMES))
def test_no_inline_volume_outside_the_allow_list(admin_kubeconfig, name):
    spec = {"volumes": [{"name": "v", **NODE_REACHING_INLINE_VOLUMES[name]}]}
    result = as_learner(admin_kubeconfig, "kubectl", "apply", "-f", "-",
                        stdin=pod(f"inline-{name}", **spec))
    assert result.returncode != 0 and "Pods may mount only configMap, csi" in result.stderr, result


def test_a_persistent_volume_claim_still_gets_storage(admin_kubeconfig):
    """What a storage lesson does: a claim on the default StorageClass, a Pod writing to it."""
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
             "metadata": {"name": "data", "namespace": "default"},
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "64Mi"}}}}
    writer = pod("writer", containers=[{"name": "app", "image": "myrepo/my-app:1.0",
                                        "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                 volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}])
    for body in (json.dumps(claim), writer):
        made = as_learner(admin_kubeconfig, "kubectl", "apply", "-f", "-", stdin=body)
        assert made.returncode == 0, made.stderr
    ready = as_learner(admin_kubeconfig, "kubectl", "wait", "--for=condition=Ready", "pod/writer",
                       "--timeout=150s")
    assert ready.returncode == 0, \
        (ready.stderr, kubectl(admin_kubeconfig, "describe", "pod", "writer").stdout)
    wrote = as_learner(admin_kubeconfig, "kubectl", "exec", "writer", "--", "sh", "-c",
                       "echo kept > /data/note && cat /data/note")
    assert wrote.returncode == 0 and wrote.stdout.strip() == "kept", wrote
    kubectl(admin_kubeconfig, "delete", "pod", "writer", "--wait=false")


# Item: no Secrets of the system, no node identity -------------------------------------------------
# The bootstrap token of every kind cluster: it is in kind's source.
KIND_BOOTSTRAP_TOKEN = "abcdef.0123456789abcdef"
# The Secrets authorizer refuses by failing closed: the API server then answers with an internal
# error that quotes the refuser's address, which says why (sandboxes/backends/kind/kubeadm.py).
SECRETS_REFUSED = "secrets-of-kube-system-and-lab-system-are-not-readable-in-this-lab"


def refused(result) -> bool:
    said = result.stderr.lower()
    return result.returncode != 0 and ("forbidden" in said or "denied" in said
                                       or SECRETS_REFUSED in said)


def as_identity(admin_kubeconfig, token: str, *args, stdin: str | None = None):
    """kubectl in the toolbox as whoever `token` says, with none of the learner's own config."""
    return as_learner(admin_kubeconfig, "kubectl", "--kubeconfig=/dev/null",
                      "--server=https://kubernetes.default.svc",
                      "--certificate-authority=/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
                      f"--token={token}", *args, stdin=stdin)


def test_the_learner_reads_no_system_secret_and_keeps_their_own(admin_kubeconfig):
    # The join token the attack read is gone, and so are the bindings that honoured it.
    tokens = kubectl(admin_kubeconfig, "get", "secrets", "-n", "kube-system", "-o", "name",
                     "--field-selector", "type=bootstrap.kubernetes.io/token")
    assert tokens.stdout.strip() == ""
    for binding in ("kubeadm:node-autoapprove-bootstrap", "kubeadm:kubelet-bootstrap"):
        assert "NotFound" in kubectl(admin_kubeconfig, "get", "clusterrolebinding", binding,
                                     check=False).stderr
    for command in (["get", "secrets", "-n", "kube-system"], ["get", "secrets", "-n", "lab-system"],
                    ["get", "secret", "bootstrap-token-abcdef", "-n", "kube-system"],
                    ["get", "secrets", "--all-namespaces"],
                    ["get", "--raw", "/api/v1/namespaces/kube-system/secrets"]):
        result = as_learner(admin_kubeconfig, "kubectl", *command)
        assert refused(result) and "bootstrap-token" not in result.stdout, (command, result)
    for namespace in ("kube-system", "lab-system"):
        can_i = as_learner(admin_kubeconfig, "kubectl", "auth", "can-i", "get", "secrets",
                           "-n", namespace)
        assert can_i.returncode != 0 and can_i.stdout.startswith("no"), can_i
    # Secrets in the learner's own namespaces work as the course teaches.
    as_learner(admin_kubeconfig, "kubectl", "create", "namespace", "vault")
    for namespace in ("vault", "default"):
        made = as_learner(admin_kubeconfig, "kubectl", "create", "secret", "generic", "db",
                          "-n", namespace, "--from-literal=password=hunter2")
        assert made.returncode == 0, made.stderr
        read = as_learner(admin_kubeconfig, "kubectl", "get", "secret", "db", "-n", namespace,
                          "-o", "jsonpath={.data.password}")
        assert base64.b64decode(read.stdout) == b"hunter2", read
        assert "db" in as_learner(admin_kubeconfig, "kubectl", "get", "secrets", "-n", namespace).stdout


def _node_csr(name: str, signer: str) -> str:
    """A CertificateSigningRequest for the identity system:node:rogue-node (the attack's)."""
    pem = subprocess.run(
        ["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", "/dev/null", "-subj", "/O=system:nodes/CN=system:node:rogue-node"],
        capture_output=True, timeout=30, check=True).stdout
    return json.dumps({"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
                       "metadata": {"name": name},
                       "spec": {"request": base64.b64encode(pem).decode(), "signerName": signer,
                                "usages": ["digital signature", "client auth"]}})


def test_no_way_to_a_node_identity(admin_kubeconfig):
    kubelet_signer = "kubernetes.io/kube-apiserver-client-kubelet"
    # kind's well-known bootstrap token no longer authenticates at all...
    with_token = as_identity(admin_kubeconfig, KIND_BOOTSTRAP_TOKEN, "create", "--validate=false",
                             "-f", "-", stdin=_node_csr("rogue-node", kubelet_signer))
    assert with_token.returncode != 0 and "Unauthorized" in with_token.stderr, with_token
    # ...the learner may not ask for a certificate themselves...
    asked = as_learner(admin_kubeconfig, "kubectl", "create", "-f", "-",
                       stdin=_node_csr("rogue-node", kubelet_signer))
    assert asked.returncode != 0 and "forbidden" in asked.stderr.lower(), asked
    # ...nor approve one that someone else asked for.
    kubectl(admin_kubeconfig, "create", "-f", "-",
            input=_node_csr("rogue-node-pending", "kubernetes.io/kube-apiserver-client"))
    try:
        approved = as_learner(admin_kubeconfig, "kubectl", "certificate", "approve",
                              "rogue-node-pending")
        assert approved.returncode != 0 and "forbidden" in approved.stderr.lower(), approved
        conditions = kubectl(admin_kubeconfig, "get", "csr", "rogue-node-pending", "-o",
                             "jsonpath={.status.conditions}").stdout
        assert "Approved" not in conditions
    finally:
        kubectl(admin_kubeconfig, "delete", "csr", "rogue-node-pending")
    assert "rogue-node " not in kubectl(admin_kubeconfig, "get", "csr").stdout + " "


def test_an_identity_the_learner_mints_cannot_write_in_kube_system(admin_kubeconfig):
    for command in (["create", "namespace", "minted"],
                    ["create", "serviceaccount", "me", "-n", "minted"],
                    # The learner may hand on their own role: they hold all of it.
                    ["create", "clusterrolebinding", "minted-me", "--clusterrole=k8s-lab-learner",
                     "--serviceaccount=minted:me"]):
        made = as_learner(admin_kubeconfig, "kubectl", *command)
        assert made.returncode == 0 or "AlreadyExists" in made.stderr, made.stderr
    token = as_learner(admin_kubeconfig, "kubectl", "create", "token", "me",
                       "-n", "minted").stdout.strip()
    try:
        whoami = as_identity(admin_kubeconfig, token, "auth", "whoami",
                             "-o", "jsonpath={.status.userInfo.username}")
        assert whoami.stdout == "system:serviceaccount:minted:me", whoami
        for command in (["create", "configmap", "mine", "-n", "kube-system"],
                        ["create", "token", "daemon-set-controller", "-n", "kube-system"],
                        ["delete", "pod", "-n", "kube-system", "-l", "k8s-app=kube-proxy"],
                        ["get", "secrets", "-n", "kube-system"],
                        ["create", "-f", "-"]):
            stdin = _node_csr("minted-node", "kubernetes.io/kube-apiserver-client-kubelet") \
                if command == ["create", "-f", "-"] else None
            result = as_identity(admin_kubeconfig, token, *command, stdin=stdin)
            assert refused(result), (command, result.stdout, result.stderr)
    finally:
        kubectl(admin_kubeconfig, "delete", "clusterrolebinding", "minted-me")


def test_the_kubelet_still_keeps_its_mirror_pods_in_kube_system(admin_kubeconfig):
    """The node's own identity passes the read-only policy for what a kubelet does: a mirror Pod
    deleted from the API comes back."""
    def scheduler_uid():
        return kubectl(admin_kubeconfig, "get", "pods", "-n", "kube-system", "-l",
                       "component=kube-scheduler", "-o", "jsonpath={.items[*].metadata.uid}",
                       check=False).stdout.strip()

    before = scheduler_uid()
    assert before
    kubectl(admin_kubeconfig, "delete", "pods", "-n", "kube-system", "-l", "component=kube-scheduler")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and scheduler_uid() in ("", before):
        time.sleep(1)
    assert scheduler_uid() not in ("", before)
