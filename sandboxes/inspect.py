"""What grading may read of a learner's sandbox: objects in their cluster, the commands they ran,
and the result of a check script run as the learner, confined. This is the
public face of sandboxes/ for courses/; nothing else there is needed to grade."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

import yaml
from django.conf import settings

from sandboxes import lifecycle
from sandboxes.models import CommandRecord, Sandbox

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


_clients: dict[str, tuple[float, object]] = {}
_clients_lock = threading.Lock()
_discovery: dict[tuple[str, str, str], tuple[str, bool]] = {}


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
        client = config.new_client_from_config(config_file=path)
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


def learner_kubeconfig(sandbox: Sandbox) -> Path | None:
    """The kubeconfig the learner's kubectl uses (they may have changed its namespace)."""
    from sandboxes.terminal.jail import JailLayout

    path = JailLayout(lifecycle.sandbox_dir(sandbox), sandbox.id).kubeconfig
    return path if path.exists() else None


def run_script(sandbox: Sandbox, script: str, timeout: float) -> tuple[int | None, str, str]:
    """Run a check script with bash as the learner's unprivileged uid, with KUBECONFIG set to the
    learner's own kubeconfig (their context and namespace, pointed at their API server) and the
    working directory in their home, so a script can look at files they made. Returns (exit code,
    or None on timeout, stdout, stderr)."""
    from sandboxes.terminal.jail import JailLayout

    if sandbox.tier == "full":
        return _run_in_toolbox(sandbox, script, timeout)
    layout = JailLayout(lifecycle.sandbox_dir(sandbox), sandbox.id)
    kubeconfig = _script_kubeconfig(sandbox)
    work = Path(tempfile.mkdtemp(prefix="k8slab-check-"))
    try:
        os.symlink(Path(settings.TOOLCHAIN_BIN) / "kubectl", work / "kubectl")
        config_path = work / "kubeconfig"
        config_path.write_text(kubeconfig)
        os.chmod(config_path, 0o600)
        as_root = os.geteuid() == 0
        if as_root:
            for path in (work, config_path):
                os.chown(path, layout.uid, layout.gid)
        home = layout.home if layout.home.is_dir() else work
        env = {"PATH": f"{work}:/usr/local/bin:/usr/bin:/bin", "KUBECONFIG": str(config_path),
               "HOME": str(home), "LANG": "C.UTF-8"}
        process = subprocess.Popen(
            ["bash", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
            cwd=home, stdin=subprocess.DEVNULL, start_new_session=True,
            user=layout.uid if as_root else None, group=layout.gid if as_root else None,
            extra_groups=[] if as_root else None)
        return _finish(process, timeout)
    finally:
        shutil.rmtree(work, ignore_errors=True)


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
    return _finish(process, timeout)


def _finish(process: subprocess.Popen, timeout: float) -> tuple[int | None, str, str]:
    """A check script's (exit code, or None on timeout, stdout, stderr)."""
    try:
        out, err = process.communicate(timeout=timeout)
        code = process.returncode
    except subprocess.TimeoutExpired:
        # The whole process group: a script's kubectl must not outlive its check.
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        code = None
    return code, out.decode(errors="replace"), err.decode(errors="replace")


def _script_kubeconfig(sandbox: Sandbox) -> str:
    """The learner's kubeconfig (their context and namespace) aimed at the real API server
    address, which the lab can reach directly (the jail's 127.0.0.1:6443 exists only inside)."""
    if not sandbox.kubeconfig or not Path(sandbox.kubeconfig).exists():
        raise ClusterUnreachable("Your cluster is not running. Start your lab to check this.")
    admin = yaml.safe_load(Path(sandbox.kubeconfig).read_text())
    learner_path = learner_kubeconfig(sandbox)
    if learner_path is None:
        return yaml.safe_dump(admin)
    learner = yaml.safe_load(learner_path.read_text())
    server = admin["clusters"][0]["cluster"]["server"]
    for cluster in learner.get("clusters") or []:
        cluster["cluster"]["server"] = server
    return yaml.safe_dump(learner)


def copy_into_home(sandbox: Sandbox, source: Path) -> int:
    """Copy a folder's files into the learner's home (keeping paths and modes, never replacing
    a file the learner already has), owned by the learner's uid. Returns how many were copied."""
    from sandboxes.terminal.jail import JailLayout

    layout = JailLayout(lifecycle.sandbox_dir(sandbox), sandbox.id)
    layout.home.mkdir(parents=True, exist_ok=True)
    copied = 0
    for path in sorted(Path(source).rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        target = layout.home / path.relative_to(source)
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        if os.geteuid() == 0:
            for part in [target, *[p for p in target.parents if layout.home in p.parents or p == layout.home]]:
                os.lchown(part, layout.uid, layout.gid)
        copied += 1
    return copied
