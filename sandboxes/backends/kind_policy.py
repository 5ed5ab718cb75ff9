"""What the learner may do in their own kind cluster, and what keeps them inside it.

A kind node is a privileged container on the lab's host, so a Pod that is privileged, shares the
node's namespaces or mounts its files could reach the host (its disks, the lab's database and
secret). The learner therefore is not cluster-admin: their toolbox service account gets a role
that can do everything the course (and most Kubernetes courses) needs, in every namespace, and
two admission policies, which that role cannot change, hold the line:

- kube-system (the control plane) and lab-system (the learner's own shell) are read-only to
  anyone but the cluster's own components: no writes, no exec, no tokens minted there;
- no Pod outside kube-system may be privileged, use the node's network, PID or IPC namespaces,
  mount a hostPath, bind a hostPort or add capabilities beyond Pod Security "baseline".

Reads stay open (kubectl get pods -n kube-system, logs of the control plane Pods), and the
role has no `nodes/proxy` (the kubelet's API) and no `escalate` or `bind` on RBAC."""
from __future__ import annotations

LEARNER_ROLE = "k8s-lab-learner"
PROTECTED_NAMESPACES = ("kube-system", "lab-system")
# Namespaces whose Pods are the cluster's own and may need the node (kube-proxy, static Pods,
# kind's local-path provisioner, which mounts hostPaths to make volumes).
SYSTEM_POD_NAMESPACES = ("kube-system", "local-path-storage")

# The core API's resources the learner may change. Listed, not "*", to leave out nodes/proxy
# (the kubelet's API: exec in any Pod, admission never sees it) and services/proxy.
CORE_RESOURCES = [
    "pods", "pods/log", "pods/exec", "pods/attach", "pods/portforward", "pods/eviction",
    "pods/ephemeralcontainers", "pods/status", "services", "services/status", "endpoints",
    "configmaps", "secrets", "namespaces", "namespaces/status", "nodes", "nodes/status", "events",
    "persistentvolumes", "persistentvolumeclaims", "serviceaccounts", "serviceaccounts/token",
    "replicationcontrollers", "replicationcontrollers/scale", "resourcequotas", "limitranges",
    "podtemplates", "bindings", "componentstatuses",
]
OPEN_GROUPS = [
    "apps", "batch", "autoscaling", "policy", "networking.k8s.io", "storage.k8s.io",
    "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "scheduling.k8s.io",
    "node.k8s.io", "apiextensions.k8s.io", "resource.k8s.io", "authorization.k8s.io",
    "authentication.k8s.io", "metrics.k8s.io", "snapshot.storage.k8s.io", "gateway.networking.k8s.io",
]
READ_ONLY_GROUPS = [
    "admissionregistration.k8s.io", "apiregistration.k8s.io", "certificates.k8s.io",
    "flowcontrol.apiserver.k8s.io", "internal.apiserver.k8s.io", "storagemigration.k8s.io",
]
READ = ["get", "list", "watch"]
WRITE = ["create", "update", "patch", "delete", "deletecollection"]

# The cluster's own components: nodes (static Pods), kube-system's service accounts (the
# controllers), the control plane's own identities, and the lab's admin credentials (kind's
# admin.conf: group kubeadm:cluster-admins, which a learner cannot join: they cannot approve a
# certificate request).
SYSTEM_CALLER = (
    "request.userInfo.username.startsWith('system:node:')"
    " || request.userInfo.username.startsWith('system:serviceaccount:kube-system:')"
    " || request.userInfo.username.startsWith('system:kube-')"
    " || request.userInfo.username == 'system:apiserver'"
    " || (has(request.userInfo.groups) && request.userInfo.groups.exists(g,"
    " g in ['system:masters', 'kubeadm:cluster-admins']))"
)
# A request that writes inside a protected namespace, or to the namespace itself. (The namespace
# selector above lets cluster-scoped objects through to the check, which therefore says which
# requests it is about.)
_PROTECTED = ", ".join(f"'{n}'" for n in PROTECTED_NAMESPACES)
IN_PROTECTED = (f"(has(request.namespace) && request.namespace in [{_PROTECTED}])"
                " || (request.resource.resource == 'namespaces' && has(request.name)"
                f" && request.name in [{_PROTECTED}])")
BASELINE_CAPABILITIES = ["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL",
                         "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID",
                         "SYS_CHROOT"]


def learner_role() -> dict:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": LEARNER_ROLE},
        "rules": [
            {"apiGroups": [""], "resources": CORE_RESOURCES, "verbs": READ + WRITE},
            {"apiGroups": OPEN_GROUPS, "resources": ["*"], "verbs": READ + WRITE},
            # RBAC without escalate/bind: a learner grants only what they hold themselves.
            {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["*"], "verbs": READ + WRITE},
            {"apiGroups": READ_ONLY_GROUPS, "resources": ["*"], "verbs": READ},
            {"nonResourceURLs": ["*"], "verbs": ["get"]},
        ],
    }


def _container_rules(field: str, label: str) -> list[dict]:
    """Validations for one of the Pod's container lists (kept apart: their CEL types differ)."""
    path = f"object.spec.{field}"
    each = f"!has({path}) || {path}.all(c, %s)"
    caps = ", ".join(f"'{c}'" for c in BASELINE_CAPABILITIES)
    return [
        {"expression": each % "!has(c.securityContext) || !has(c.securityContext.privileged)"
                               " || !c.securityContext.privileged",
         "message": f"{label} may not be privileged in this lab: a privileged container could reach "
                    "the machine the lab runs on."},
        {"expression": each % ("!has(c.securityContext) || !has(c.securityContext.capabilities)"
                               " || !has(c.securityContext.capabilities.add)"
                               f" || c.securityContext.capabilities.add.all(x, x in [{caps}])"),
         "message": f"{label} may add only the capabilities of Pod Security \"baseline\" in this lab."},
        {"expression": each % "!has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0)",
         "message": f"{label} may not bind a hostPort in this lab (the node is shared with the lab)."},
    ]


def pod_policy() -> list[dict]:
    validations = [
        {"expression": "!(has(object.spec.hostNetwork) && object.spec.hostNetwork)"
                       " && !(has(object.spec.hostPID) && object.spec.hostPID)"
                       " && !(has(object.spec.hostIPC) && object.spec.hostIPC)",
         "message": "Pods may not use the node's network, PID or IPC namespaces in this lab."},
        {"expression": "!has(object.spec.volumes) || object.spec.volumes.all(v, !has(v.hostPath))",
         "message": "Pods may not mount hostPath volumes in this lab: the node's files are the "
                    "lab's. Use an emptyDir or a PersistentVolumeClaim."},
        *_container_rules("containers", "Containers"),
        *_container_rules("initContainers", "Init containers"),
        *_container_rules("ephemeralContainers", "Debug (ephemeral) containers"),
    ]
    return _policy("k8s-lab-pods-stay-in-their-sandbox", {
        "resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                           "operations": ["CREATE", "UPDATE"],
                           "resources": ["pods", "pods/ephemeralcontainers"]}],
        "namespaceSelector": {"matchExpressions": [{
            "key": "kubernetes.io/metadata.name", "operator": "NotIn",
            "values": list(SYSTEM_POD_NAMESPACES)}]},
    }, validations)


def protected_namespaces_policy() -> list[dict]:
    return _policy("k8s-lab-system-namespaces-read-only", {
        "resourceRules": [{"apiGroups": ["*"], "apiVersions": ["*"],
                           "operations": ["CREATE", "UPDATE", "DELETE", "CONNECT"],
                           "resources": ["*/*"]}],
        "namespaceSelector": {"matchExpressions": [{
            "key": "kubernetes.io/metadata.name", "operator": "In",
            "values": list(PROTECTED_NAMESPACES)}]},
    }, [{"expression": f"!({IN_PROTECTED}) || {SYSTEM_CALLER}",
         "message": "kube-system and lab-system are read-only in this lab: look (get, describe, "
                    "logs) as much as you like, but changes, exec and tokens there are the "
                    "cluster's own."}])


def _policy(name: str, constraints: dict, validations: list[dict]) -> list[dict]:
    return [
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
         "metadata": {"name": name},
         "spec": {"failurePolicy": "Fail", "matchConstraints": constraints,
                  "validations": validations}},
        {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
         "metadata": {"name": name},
         "spec": {"policyName": name, "validationActions": ["Deny"]}},
    ]


def manifests() -> list[dict]:
    """The policies first: the learner's role is bound only once they hold."""
    return [*protected_namespaces_policy(), *pod_policy(), learner_role()]
