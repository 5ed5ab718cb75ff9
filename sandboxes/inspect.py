"""What grading may read of a learner's sandbox: objects in their cluster, the commands they ran,
and the result of a check script run as the learner, confined (on the api tier in their jail,
sandboxes/jail/; on the full tier in their toolbox pod). This is the public face of sandboxes/
for courses/; nothing else there is needed to grade."""
from __future__ import annotations

import json
import logging
import subprocess
import threading
from pathlib import Path

from django.conf import settings

from sandboxes import lifecycle, tiers
from sandboxes.jail import homefiles, kubeconfig, scripts
from sandboxes.jail.layout import JailGone, JailLayout
from sandboxes.models import CommandRecord, Sandbox

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 3

# Resource names of the kinds lessons check most, so most checks need no discovery call.
KNOWN_RESOURCES = {
    ("v1", "Namespace"): ("namespaces", False), ("v1", "Node"): ("nodes", False),
    ("v1", "Pod"): ("pods", True), ("v1", "Service"): ("services", True),
    ("v1", "ConfigMap"): ("configmaps", True), ("v1", "Secret"): ("secrets", True),
    ("v1", "ServiceAccount"): ("serviceaccounts", True), ("v1", "Endpoints"): ("endpoints", True),
    ("v1", "Event"): ("events", True), ("v1", "PersistentVolumeClaim"): ("persistentvolumeclaims", True),
    ("v1", "ResourceQuota"): ("resourcequotas", True), ("v1", "LimitRange"): ("limitranges", True),
    ("apps/v1", "Deployment"): ("deployments", True), ("apps/v1", "ReplicaSet"): ("replicasets", True),
    ("apps/v1", "StatefulSet"): ("statefulsets", True), ("apps/v1", "DaemonSet"): ("daemonsets", True),
    ("batch/v1", "Job"): ("jobs", True), ("batch/v1", "CronJob"): ("cronjobs", True),
}


class ClusterUnreachable(RuntimeError):
    """The learner's cluster did not answer; the message says so in their words."""


class ObjectQueryError(RuntimeError):
    """The question itself cannot be asked (an unknown kind, for instance)."""


class ScriptRefused(ClusterUnreachable):
    """The lab would not run a script for this sandbox as things are (the learner's kubeconfig
    names an impossible namespace, their lab is out of processes); the message says why."""


_clients: dict[str, tuple[float, object]] = {}
_clients_lock = threading.Lock()
_discovery: dict[tuple[str, str, str], tuple[str, bool]] = {}


def _admin_config(sandbox: Sandbox) -> dict:
    """The sandbox's admin kubeconfig (the lab's own file, never one a learner can edit), loaded
    without anything in it that could run a program or read a file."""
    path = sandbox.kubeconfig
    if not path or not Path(path).exists():
        raise ClusterUnreachable("Your cluster is not running. Start your lab to check this.")
    try:
        return kubeconfig.load_lab_file(Path(path))
    except (kubeconfig.KubeconfigRefused, OSError) as exc:
        log.error("sandbox %s: refusing its admin kubeconfig: %s", sandbox.id, exc)
        raise ClusterUnreachable("The lab cannot use your cluster's credentials; "
                                 "restart your lab.") from None


def _client(sandbox: Sandbox):
    """One API client per kubeconfig (it keeps its connections open: checks run every second)."""
    from kubernetes import config

    path = sandbox.kubeconfig
    if not path or not Path(path).exists():
        raise ClusterUnreachable("Your cluster is not running. Start your lab to check this.")
    mtime = Path(path).stat().st_mtime
    with _clients_lock:
        cached = _clients.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
        client = config.new_client_from_config_dict(_admin_config(sandbox))
        _clients[path] = (mtime, client)
        return client


def _get(sandbox: Sandbox, path: str, query: dict | None = None):
    """GET a path of the learner's API server: the parsed JSON, or None for a 404."""
    from kubernetes.client.exceptions import ApiException

    client = _client(sandbox)
    url = client.configuration.host + path
    if query:
        from urllib.parse import urlencode
        url += "?" + urlencode(query)
    try:
        response = client.call_api("GET", url, header_params={"Accept": "application/json"},
                                   _request_timeout=REQUEST_TIMEOUT)
        response.read()
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise ClusterUnreachable(f"Your cluster answered {exc.status} {exc.reason}.") from None
    except Exception as exc:  # noqa: BLE001 - connection refused, timeout, TLS: all "unreachable"
        raise ClusterUnreachable("Your cluster did not answer (is it still running?).") from exc
    if response.status == 404:
        return None
    if response.status >= 400:
        raise ClusterUnreachable(f"Your cluster answered {response.status}.")
    return json.loads(response.data)


def _resource(sandbox: Sandbox, api_version: str, kind: str) -> tuple[str, bool]:
    known = KNOWN_RESOURCES.get((api_version, kind))
    if known:
        return known
    key = (str(sandbox.id), api_version, kind)
    if key not in _discovery:
        base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        listing = _get(sandbox, base)
        if not listing:
            raise ObjectQueryError(f"the cluster has no API {api_version}")
        for resource in listing.get("resources", []):
            if resource.get("kind") == kind and "/" not in resource["name"]:
                _discovery[key] = (resource["name"], resource.get("namespaced", False))
                break
        else:
            raise ObjectQueryError(f"the cluster has no kind {kind} in {api_version}")
    return _discovery[key]


def _base(api_version: str) -> str:
    return "/api/v1" if api_version == "v1" else f"/apis/{api_version}"


def get_object(sandbox: Sandbox, api_version: str, kind: str, name: str,
               namespace: str | None = None) -> dict | None:
    plural, namespaced = _resource(sandbox, api_version, kind)
    ns = f"/namespaces/{namespace or 'default'}" if namespaced else ""
    return _get(sandbox, f"{_base(api_version)}{ns}/{plural}/{name}")


def list_objects(sandbox: Sandbox, api_version: str, kind: str, namespace: str | None = None,
                 selector: str | None = None) -> list[dict]:
    plural, namespaced = _resource(sandbox, api_version, kind)
    ns = f"/namespaces/{namespace or 'default'}" if namespaced else ""
    data = _get(sandbox, f"{_base(api_version)}{ns}/{plural}",
                {"labelSelector": selector} if selector else None)
    return (data or {}).get("items", [])


def commands(sandbox: Sandbox) -> list[CommandRecord]:
    """Every command the learner ran in this sandbox's terminal, oldest first."""
    return list(CommandRecord.objects.filter(sandbox=sandbox))


def _layout(sandbox: Sandbox) -> JailLayout:
    return JailLayout(lifecycle.sandbox_dir(sandbox), sandbox.id)


def run_script(sandbox: Sandbox, script: str, timeout: float) -> tuple[int | None, str, str]:
    """Run a check or setup script with bash as the learner, confined, in their home, against
    their cluster (in the namespace they switched to). Returns (exit code, or None on timeout,
    stdout, stderr). On the api tier it runs in their jail with the lab's own kubeconfig: nothing
    the learner can edit is interpreted outside their confinement."""
    if tiers.get(sandbox.tier).real_containers:  # the learner works in their toolbox pod
        return _run_in_toolbox(sandbox, script, timeout)
    admin = _admin_config(sandbox)
    try:
        return scripts.run(_layout(sandbox), admin, script, timeout)
    except kubeconfig.KubeconfigRefused as exc:
        raise ScriptRefused(f"The check cannot read your namespace: {exc}.") from None
    except scripts.ScriptRefused as exc:
        raise ScriptRefused(str(exc)) from None
    except JailGone:
        raise ClusterUnreachable("Your cluster is not running. Start your lab to check this.") from None


def _run_in_toolbox(sandbox: Sandbox, script: str, timeout: float) -> tuple[int | None, str, str]:
    """On the full tier the learner works in the toolbox pod of their cluster, so a check script
    runs there too: as the learner (uid 1000), in their home, with their own ~/.kube/config (the
    namespace they switched to included), through the same kubectl exec as their terminal."""
    from sandboxes.backends.kind import TOOLBOX_NAMESPACE, TOOLBOX_POD

    if not sandbox.kubeconfig or not Path(sandbox.kubeconfig).exists():
        raise ClusterUnreachable("Your cluster is not running. Start your lab to check this.")
    argv = [str(Path(settings.TOOLCHAIN_BIN) / "kubectl"), "--kubeconfig", sandbox.kubeconfig,
            "exec", "-i", "-n", TOOLBOX_NAMESPACE, TOOLBOX_POD, "-c", "toolbox", "--",
            "bash", "-c", 'cd "$HOME" && exec bash -c "$0"', script]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, start_new_session=True)
    return scripts.collect(process, timeout)


def copy_into_home(sandbox: Sandbox, source: Path) -> int:
    """Copy a folder's files into the learner's home (keeping paths and modes, never replacing
    a file the learner already has), written as the learner inside their jail, so a symlink of
    theirs cannot send a file anywhere else. Returns how many were copied. (Not on a tier whose
    shell is the toolbox pod: its home is in the cluster, and copying there is not built yet.)"""
    if tiers.get(sandbox.tier).real_containers:
        return 0
    try:
        return homefiles.copy_tree(_layout(sandbox), Path(source))
    except homefiles.HomeFilesError as exc:
        # A lesson page still opens; the next visit copies what is missing.
        log.warning("sandbox %s: course files not copied: %s", sandbox.id, exc)
        return 0


def run_setup_script(sandbox: Sandbox, script: str, timeout: float) -> tuple[int | None, str, str]:
    """Run a course's setup script as the learner's cluster administrator would. Returns (exit
    code, or None on timeout, stdout, stderr). On the api tier that is the learner's jail with the
    sandbox's admin credentials (run_script); on the full tier, where the learner is not admin,
    a pod of its own in lab-system bound to cluster-admin (backends/kind/setup_pod.py), never
    the lab's host and never the learner's toolbox."""
    if not tiers.get(sandbox.tier).real_containers:
        return run_script(sandbox, script, timeout)
    from sandboxes.backends.base import BackendError
    from sandboxes.backends.kind import setup_pod, toolbox_image

    client = _client(sandbox)  # raises ClusterUnreachable when the cluster is gone
    try:
        setup_pod.ensure_running(client, toolbox_image())
    except BackendError as exc:
        raise ScriptRefused(f"The lab could not start its setup pod in your cluster: {exc}.") from None
    process = setup_pod.start(Path(settings.TOOLCHAIN_BIN) / "kubectl", sandbox.kubeconfig,
                              script, timeout)
    # The pod ends the script at `timeout` (exit 124); the local wait allows for that and more.
    code, out, err = scripts.collect(process, timeout + setup_pod.KILL_AFTER + 10)
    return (None if code == setup_pod.TIMED_OUT else code), out, setup_pod.without_exec_note(err)
