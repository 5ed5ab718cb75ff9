"""The lab's objects inside a new cluster: its admission policies and the learner's role
(policy.py), the learner's toolbox (their shell), and the removal of what would let a learner
mint a node's identity. The manifests come from pure functions; install() only creates them."""
from __future__ import annotations

import json

from sandboxes import names
from sandboxes.backends.base import BackendError
from sandboxes.backends.kind import policy
from sandboxes.backends.kind.images import FIX_IMAGES

TOOLBOX_NAMESPACE = "lab-system"
TOOLBOX_POD = "toolbox"
TOOLBOX_SERVICE_ACCOUNT = "toolbox"
# kubeadm leaves a bootstrap token for joining more nodes, and kind's is the same in every
# cluster (it is in kind's source). Whoever holds it may ask for a node's client certificate and
# have it approved at once. The lab's clusters have one node, joined by then: the tokens and the
# bindings that let them create and auto-approve certificate requests go. (The kubelet's own
# renewals stay approved automatically: a node may renew only its own name.)
BOOTSTRAP_TOKEN_TYPE = "bootstrap.kubernetes.io/token"
JOIN_BINDINGS = ("kubeadm:kubelet-bootstrap", "kubeadm:node-autoapprove-bootstrap",
                 "kubeadm:get-nodes")


def toolbox_manifests(image: str, api_ip: str) -> list[dict]:
    """The learner's shell: a namespace, a service account bound to the learner's role, and a
    pod that sleeps until the terminal execs bash in it."""
    labels = {**names.managed_labels(), "app.kubernetes.io/name": "toolbox"}
    return [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": TOOLBOX_NAMESPACE, "labels": names.managed_labels()}},
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": TOOLBOX_SERVICE_ACCOUNT, "namespace": TOOLBOX_NAMESPACE,
                      "labels": labels}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "k8s-lab-toolbox", "labels": labels},
         # Not cluster-admin: the learner's role, held in by the lab's admission policies.
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": policy.LEARNER_ROLE},
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


def cluster_objects(image: str, api_ip: str) -> list[dict]:
    """Everything the lab creates in the cluster, in order (the policies hold before the
    learner's role is bound), each labelled as the lab's."""
    objects = [*policy.manifests(), *toolbox_manifests(image, api_ip)]
    for obj in objects:
        metadata = obj.setdefault("metadata", {})
        metadata["labels"] = {**metadata.get("labels", {}), **names.managed_labels()}
    return objects


def remove_join_credentials(client) -> None:
    """Delete the bootstrap tokens and the bindings that honour them (see JOIN_BINDINGS). Each
    one that is gone already is success."""
    from kubernetes import client as k8s

    core = k8s.CoreV1Api(client)
    rbac = k8s.RbacAuthorizationV1Api(client)
    tokens = core.list_namespaced_secret("kube-system", field_selector=f"type={BOOTSTRAP_TOKEN_TYPE}")
    for secret in tokens.items:
        _gone_is_fine(lambda: core.delete_namespaced_secret(secret.metadata.name, "kube-system"),
                      f"the bootstrap token {secret.metadata.name}")
    for name in JOIN_BINDINGS:
        _gone_is_fine(lambda: rbac.delete_cluster_role_binding(name), f"the binding {name}")


def install(client, image: str) -> None:
    """Create cluster_objects(); each that exists already is left as it is."""
    from kubernetes import client as k8s
    from kubernetes.client.rest import ApiException

    core = k8s.CoreV1Api(client)
    rbac = k8s.RbacAuthorizationV1Api(client)
    admission = k8s.AdmissionregistrationV1Api(client)
    api_ip = core.read_namespaced_service("kubernetes", "default").spec.cluster_ip
    creators = {
        "ValidatingAdmissionPolicy": admission.create_validating_admission_policy,
        "ValidatingAdmissionPolicyBinding": admission.create_validating_admission_policy_binding,
        "ClusterRole": rbac.create_cluster_role,
        "Namespace": core.create_namespace,
        "ServiceAccount": lambda o: core.create_namespaced_service_account(TOOLBOX_NAMESPACE, o),
        "ClusterRoleBinding": rbac.create_cluster_role_binding,
        "Pod": lambda o: core.create_namespaced_pod(TOOLBOX_NAMESPACE, o),
    }
    for obj in cluster_objects(image, api_ip):
        try:
            creators[obj["kind"]](obj)
        except ApiException as exc:
            if exc.status != 409:
                raise BackendError(f"could not create the toolbox {obj['kind']}: "
                                   f"{_api_error(exc)}") from None


def toolbox_running(core) -> bool:
    pod = core.read_namespaced_pod(TOOLBOX_POD, TOOLBOX_NAMESPACE)
    for status in pod.status.container_statuses or []:
        waiting = status.state.waiting if status.state else None
        if waiting and waiting.reason in ("ErrImageNeverPull", "InvalidImageName",
                                          "CreateContainerConfigError"):
            raise BackendError(f"the toolbox pod cannot start: {waiting.reason}: {waiting.message} "
                               f"(rebuild the images with {FIX_IMAGES})", permanent=True)
    return pod.status.phase == "Running" and all(
        s.ready for s in (pod.status.container_statuses or []))


def all_nodes_ready(core) -> bool:
    nodes = core.list_node().items
    return bool(nodes) and all(
        any(c.type == "Ready" and c.status == "True" for c in (n.status.conditions or []))
        for n in nodes)


def _gone_is_fine(call, what: str) -> None:
    from kubernetes.client.rest import ApiException

    try:
        call()
    except ApiException as exc:
        if exc.status != 404:
            raise BackendError(f"could not delete {what}: {_api_error(exc)}") from None


def _api_error(exc) -> str:
    detail = ""
    try:
        detail = ": " + json.loads(exc.body or "{}").get("message", "")[:500]
    except ValueError:
        pass
    return f"{exc.status} {exc.reason}{detail}"
