"""The full tier's setup pod: where a course's setup script runs as the cluster's administrator.

On this tier the learner is not cluster-admin (policy.py), yet a course's setup (Killercoda's
background script) is written for an administrator: it may create namespaces, RBAC and objects
in kube-system. Running an author's script on the lab's host would hand it the host, and giving
the learner's toolbox admin credentials would hand them to the learner. So it runs in a pod of
its own in lab-system, whose service account is bound to cluster-admin, exec'd by the lab with
the sandbox's admin kubeconfig. The learner cannot reach it: lab-system is read-only to them (no
exec, no ephemeral containers, no tokens minted there, its Secrets unreadable), and a Pod can
use only a service account of its own namespace. The pod is made the first time a setup runs and
stays for the cluster's life (a second setup needs no new pod); it listens on nothing.

The manifests come from a pure function (setup_manifests); ensure_running() creates them and
waits, run() execs a script in the pod."""
from __future__ import annotations

import copy
import re
import subprocess
import time
from pathlib import Path

from sandboxes import names
from sandboxes.backends.base import BackendError
from sandboxes.backends.kind import bootstrap
from sandboxes.backends.kind.bootstrap import TOOLBOX_NAMESPACE, _api_error
from sandboxes.backends.kind.images import FIX_IMAGES

SETUP_POD = "lab-setup"
SETUP_CONTAINER = "setup"
SETUP_SERVICE_ACCOUNT = "lab-setup"
SETUP_BINDING = "k8s-lab-setup"
# The toolbox image is unpacked in the node already (the learner's shell uses it), so the pod
# starts in a few seconds; this is the most a first setup waits for it.
START_SECONDS = 90
# After the script's own timeout, the seconds `timeout` gives it to end before it is killed.
KILL_AFTER = 5
# Seconds each API call may take: a dead cluster must not hang a worker.
REQUEST_TIMEOUT = 10
# What coreutils timeout exits with when it ended the script.
TIMED_OUT = 124
EXEC_NOTE = re.compile(r"^command terminated with exit code \d+\n?\Z", re.MULTILINE)


def setup_manifests(image: str, api_ip: str) -> list[dict]:
    """The setup pod and its cluster-admin service account (the namespace is the toolbox's)."""
    labels = {**names.managed_labels(), "app.kubernetes.io/name": SETUP_POD}
    # The toolbox's own pod (the same image and tools, the same unprivileged uid, the same
    # hosts entry for the API server), under another name and account. Administrator of the
    # cluster, not of the node: the lab's Pod policy applies to it as to every Pod outside
    # kube-system.
    toolbox = next(o for o in bootstrap.toolbox_manifests(image, api_ip) if o["kind"] == "Pod")
    pod = copy.deepcopy(toolbox)
    pod["metadata"] = {"name": SETUP_POD, "namespace": TOOLBOX_NAMESPACE, "labels": labels}
    pod["spec"]["serviceAccountName"] = SETUP_SERVICE_ACCOUNT
    pod["spec"]["containers"][0]["name"] = SETUP_CONTAINER
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": SETUP_SERVICE_ACCOUNT, "namespace": TOOLBOX_NAMESPACE,
                      "labels": labels}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": SETUP_BINDING, "labels": labels},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": "cluster-admin"},
         "subjects": [{"kind": "ServiceAccount", "name": SETUP_SERVICE_ACCOUNT,
                       "namespace": TOOLBOX_NAMESPACE}]},
        pod,
    ]


def ensure_running(client, image: str, seconds: float = START_SECONDS) -> None:
    """Create the setup pod and its account unless they exist, and wait until it runs."""
    from kubernetes import client as k8s
    from kubernetes.client.rest import ApiException

    core = k8s.CoreV1Api(client)
    if _running(core):
        return
    rbac = k8s.RbacAuthorizationV1Api(client)
    api_ip = core.read_namespaced_service("kubernetes", "default",
                                          _request_timeout=REQUEST_TIMEOUT).spec.cluster_ip
    creators = {
        "ServiceAccount": lambda o, **kw: core.create_namespaced_service_account(
            TOOLBOX_NAMESPACE, o, **kw),
        "ClusterRoleBinding": rbac.create_cluster_role_binding,
        "Pod": lambda o, **kw: core.create_namespaced_pod(TOOLBOX_NAMESPACE, o, **kw),
    }
    for obj in setup_manifests(image, api_ip):
        try:
            creators[obj["kind"]](obj, _request_timeout=REQUEST_TIMEOUT)
        except ApiException as exc:
            if exc.status != 409:  # it exists already: fine
                raise BackendError(f"could not create the setup {obj['kind']}: "
                                   f"{_api_error(exc)}") from None
    deadline = time.monotonic() + seconds
    while not _running(core):
        if time.monotonic() > deadline:
            raise BackendError(f"the setup pod did not start within {seconds:.0f} s")
        time.sleep(0.5)


def _running(core) -> bool:
    from kubernetes.client.rest import ApiException

    try:
        pod = core.read_namespaced_pod(SETUP_POD, TOOLBOX_NAMESPACE, _request_timeout=REQUEST_TIMEOUT)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise BackendError(f"could not read the setup pod: {_api_error(exc)}") from None
    for status in pod.status.container_statuses or []:
        waiting = status.state.waiting if status.state else None
        if waiting and waiting.reason in ("ErrImageNeverPull", "InvalidImageName"):
            raise BackendError(f"the setup pod cannot start: {waiting.reason} (rebuild the "
                               f"images with {FIX_IMAGES})", permanent=True)
    return pod.status.phase == "Running" and all(
        s.ready for s in (pod.status.container_statuses or []))


def exec_argv(kubectl: Path, kubeconfig: str, script: str, timeout: float) -> list[str]:
    """kubectl exec of bash in the setup pod, in its home. The script's time is bounded inside
    the pod too (coreutils timeout): ending the local kubectl would not end the remote bash."""
    seconds = max(1, int(timeout))
    return [str(kubectl), "--kubeconfig", kubeconfig, "exec", "-i", "-n", TOOLBOX_NAMESPACE,
            SETUP_POD, "-c", SETUP_CONTAINER, "--",
            "timeout", "-k", str(KILL_AFTER), str(seconds),
            "bash", "-c", 'cd "$HOME" && exec bash -c "$0"', script]


def without_exec_note(stderr: str) -> str:
    """stderr without the line kubectl exec adds for a non-zero exit ("command terminated with
    exit code 3"): the exit code is kept anyway, and that line would hide the script's own last."""
    return EXEC_NOTE.sub("", stderr)


def start(kubectl: Path, kubeconfig: str, script: str, timeout: float) -> subprocess.Popen:
    """The running exec of script; the caller collects its output (jail.scripts.collect)."""
    return subprocess.Popen(exec_argv(kubectl, kubeconfig, script, timeout),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, start_new_session=True)
