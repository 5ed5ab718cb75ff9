"""What the learner may do in their own kind cluster, and what keeps them inside it.

A kind node is a privileged container on the lab's host, so a Pod that is privileged, shares the
node's namespaces or mounts its files could reach the host (its disks, the lab's database and
secret). The learner therefore is not cluster-admin: their toolbox service account gets a role
that can do everything the course (and most Kubernetes courses) needs, in every namespace, and
the lab's own rules, which that role cannot change, hold the line:

- kube-system (the control plane) and lab-system (the learner's own shell) are read-only to
  anyone but the cluster's own components: no writes, no exec, no tokens minted there; a node's
  identity may there do only what a kubelet does (its Pods, their status, events, their tokens);
- their Secrets are not even readable (an authorizer ahead of RBAC, see kubeadm.py: RBAC only
  adds, and admission never sees a read);
- no Pod outside kube-system may be privileged, use the node's network, PID or IPC namespaces,
  bind a hostPort, add capabilities beyond Pod Security "baseline", or mount any volume but the
  kinds Pod Security "restricted" allows (no hostPath, no in-tree network or device volumes);
- a PersistentVolume the learner makes may only be of a kind that cannot reach the node; the
  default StorageClass's volumes are made by the controller manager, not by the learner.

Reads stay open elsewhere (kubectl get pods -n kube-system, logs of the control plane Pods), and
the role has no `nodes/proxy` (the kubelet's API), no CSR creation or approval (a certificate is
an identity) and no `escalate`, `bind` or `impersonate`."""
from __future__ import annotations

LEARNER_ROLE = "k8s-lab-learner"
PROTECTED_NAMESPACES = ("kube-system", "lab-system")
# Namespaces whose Pods are the cluster's own and may need the node (kube-proxy, the control
# plane's static Pods). Only a namespace the lab protects may be here: one the learner can create
# (kind's usual "local-path-storage", which these clusters do not have) would be a way around
# every rule below.
SYSTEM_POD_NAMESPACES = ("kube-system",)
# The volume kinds a Pod may mount: Pod Security "restricted"'s list. None of them reaches the
# node's files: csi needs a driver registered with the kubelet, and registering one takes a
# hostPath to the kubelet's plugin directory, which no Pod of the learner gets. (If the lab ever
# installs a CSI driver, review what it mounts.) An ephemeral or persistentVolumeClaim volume is
# as safe as the PersistentVolumes it binds to; see PV_SOURCES.
POD_VOLUME_SOURCES = ("configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                      "persistentVolumeClaim", "projected", "secret")
# The kinds of PersistentVolume a learner may create. hostPath and local are the node's files;
# nfs, iscsi, fc, rbd, cephfs, glusterfs and flexVolume make the node's kernel mount a device or
# a server (or run a driver binary on the node); the cloud kinds have no driver here. The default
# StorageClass (kubernetes.io/host-path, the controller manager's built-in provisioner) makes
# hostPath volumes under the node's /tmp/hostpath_pv for a PersistentVolumeClaim, as a cluster
# component, which is allowed: the learner picks neither their path nor their kind.
PV_SOURCES = ("csi",)

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
# certificates.k8s.io is here: a learner who could create and approve a CSR could mint any
# identity (system:node:..., system:masters).
READ_ONLY_GROUPS = [
    "admissionregistration.k8s.io", "apiregistration.k8s.io", "certificates.k8s.io",
    "flowcontrol.apiserver.k8s.io", "internal.apiserver.k8s.io", "storagemigration.k8s.io",
]
READ = ["get", "list", "watch"]
WRITE = ["create", "update", "patch", "delete", "deletecollection"]
CLUSTER_ADMIN_GROUPS = ["system:masters", "kubeadm:cluster-admins"]
# The lab's own administrator inside the cluster: the course setup pod's service account
# (setup_pod.py), cluster-admin by design. The learner can reach neither its pod nor a token of
# it: lab-system is read-only to them (no Pods, exec, tokens or Secrets there).
LAB_ADMIN_SERVICE_ACCOUNTS = ["system:serviceaccount:lab-system:lab-setup"]


def cluster_component(user: str, groups: str) -> str:
    """CEL: the caller is one of the cluster's own components (the controllers' service accounts
    in kube-system, the control plane's own identities) or the lab's admin credentials (kind's
    admin.conf: group kubeadm:cluster-admins, which a learner cannot join: they cannot have a
    certificate signed; the setup pod's account). `user` and `groups` name the caller in the CEL
    environment at hand."""
    admin = ", ".join(f"'{g}'" for g in CLUSTER_ADMIN_GROUPS)
    lab_admins = ", ".join(f"'{a}'" for a in LAB_ADMIN_SERVICE_ACCOUNTS)
    return (f"{user}.startsWith('system:serviceaccount:kube-system:')"
            f" || {user}.startsWith('system:kube-')"
            f" || {user} == 'system:apiserver'"
            f" || {user} in [{lab_admins}]"
            f" || (has({groups}) && {groups}.exists(g, g in [{admin}]))")


# What a kubelet writes in a protected namespace: the mirror Pods of its static Pods (and the
# deletion of Pods it has stopped), their status, events, and the service account tokens of the
# Pods it runs. A node identity gets nothing more there, so that one minted some other way (a
# bootstrap token, a signed CSR) is no key to kube-system.
# (An admission request has no subResource key at all when it is about the object itself.)
_SUBRESOURCE = "(has(request.subResource) ? request.subResource : '')"
KUBELET_WRITES = (
    "(request.resource.group == '' && request.resource.resource == 'pods'"
    f" && {_SUBRESOURCE} in ['', 'status'])"
    " || (request.resource.resource == 'events' && request.resource.group in ['', 'events.k8s.io'])"
    " || (request.resource.group == '' && request.resource.resource == 'serviceaccounts'"
    f" && {_SUBRESOURCE} == 'token')")
SYSTEM_CALLER = (
    "(" + cluster_component("request.userInfo.username", "request.userInfo.groups") + ")"
    f" || (request.userInfo.username.startsWith('system:node:') && ({KUBELET_WRITES}))")
# A request that writes inside a protected namespace, or to the namespace itself. (The namespace
# selector lets cluster-scoped objects through to the check, which therefore says which requests
# it is about.)
_PROTECTED = ", ".join(f"'{n}'" for n in PROTECTED_NAMESPACES)
IN_PROTECTED = (f"(has(request.namespace) && request.namespace in [{_PROTECTED}])"
                " || (request.resource.resource == 'namespaces' && has(request.name)"
                f" && request.name in [{_PROTECTED}])")
BASELINE_CAPABILITIES = ["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL",
                         "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID",
                         "SYS_CHROOT"]


def protected_secrets_conditions() -> list[str]:
    """CEL match conditions over a SubjectAccessReview (the authorizer in kubeadm.py): true, all
    of them, for a request about Secrets in a protected namespace, or in every namespace at once
    (a list across namespaces would include theirs), by anyone but the cluster's own components
    and nodes (a kubelet reads the Secrets of its Pods; the Node authorizer limits it to those).
    The first keeps requests that are not about a resource (/healthz) out of the others."""
    readers = cluster_component("request.user", "request.groups")
    return [
        "has(request.resourceAttributes)",
        "request.resourceAttributes.group == '' && request.resourceAttributes.resource == 'secrets'",
        f"request.resourceAttributes.namespace in [{_PROTECTED}, '']",
        f"!(request.user.startsWith('system:node:') || {readers})",
    ]


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


def _any_of(sources, variable: str) -> str:
    return " || ".join(f"has({variable}.{source})" for source in sources)


def pod_policy() -> list[dict]:
    validations = [
        {"expression": "!(has(object.spec.hostNetwork) && object.spec.hostNetwork)"
                       " && !(has(object.spec.hostPID) && object.spec.hostPID)"
                       " && !(has(object.spec.hostIPC) && object.spec.hostIPC)",
         "message": "Pods may not use the node's network, PID or IPC namespaces in this lab."},
        # An allow-list, not a list of the bad kinds: a volume kind added to Kubernetes later is
        # refused until someone decides it is safe.
        {"expression": "!has(object.spec.volumes) || object.spec.volumes.all(v, "
                       f"{_any_of(POD_VOLUME_SOURCES, 'v')})",
         "message": "Pods may mount only " + ", ".join(POD_VOLUME_SOURCES) + " volumes in this lab "
                    "(no hostPath, local, nfs, iscsi and the like): the node's files and devices are "
                    "the lab's. Use an emptyDir or a PersistentVolumeClaim."},
        *_container_rules("containers", "Containers"),
        *_container_rules("initContainers", "Init containers"),
        *_container_rules("ephemeralContainers", "Debug (ephemeral) containers"),
    ]
    exempt = ", ".join(SYSTEM_POD_NAMESPACES)
    return _policy("k8s-lab-pods-stay-in-their-sandbox", {
        "resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                           "operations": ["CREATE", "UPDATE"],
                           "resources": ["pods", "pods/ephemeralcontainers"]}],
        "namespaceSelector": {"matchExpressions": [{
            "key": "kubernetes.io/metadata.name", "operator": "NotIn",
            "values": list(SYSTEM_POD_NAMESPACES)}]},
    }, [{**rule, "message": f"{rule['message']} (This applies in every namespace but {exempt}, "
                            "whatever its name.)"} for rule in validations])


def persistent_volume_policy() -> list[dict]:
    # CREATE only: a PersistentVolume's source cannot change once it exists (the API refuses).
    return _policy("k8s-lab-volumes-stay-off-the-node", {
        "resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"],
                           "resources": ["persistentvolumes"]}],
    }, [{"expression": f"{SYSTEM_CALLER} || {_any_of(PV_SOURCES, 'object.spec')}",
         "message": "PersistentVolumes you create may only be " + ", ".join(PV_SOURCES)
                    + " volumes in this lab: hostPath, local, nfs, iscsi and the other kinds reach "
                    "the node, which is the lab's. Ask for storage with a PersistentVolumeClaim "
                    "instead: the default StorageClass makes its volume."}])


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
                    "logs) as much as you like, but changes, exec, tokens and Secrets there are "
                    "the cluster's own."}])


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
    return [*protected_namespaces_policy(), *pod_policy(), *persistent_volume_policy(),
            learner_role()]
