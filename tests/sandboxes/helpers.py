"""Helpers for tests on real clusters."""
from __future__ import annotations

import contextlib
import json
import subprocess
import time
from pathlib import Path

from django.conf import settings

from sandboxes.models import Sandbox, State
from tests.processes import wait_for


def kubectl(kubeconfig, *args, input: str | None = None, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run([str(Path(settings.TOOLCHAIN_BIN) / "kubectl"), "--kubeconfig",
                             str(kubeconfig), *args], capture_output=True, text=True, timeout=60,
                            input=input)
    if check:
        assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result


def kwok_clusters() -> list[str]:
    from sandboxes.backends import get_backend

    return get_backend("api").list_clusters()


def running_processes_of(cluster: str) -> list[str]:
    """Command lines of live processes whose arguments mention the cluster's work dir."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if f"/clusters/{cluster}/" in cmd:
                found.append(cmd[:200])
    return found


def wait_state(sandbox: Sandbox, states, timeout: float = 120) -> Sandbox:
    states = {states} if isinstance(states, str) else set(states)

    def reached():
        sandbox.refresh_from_db()
        return sandbox.state in states

    wait_for(reached, timeout, f"sandbox {sandbox.id} to reach {states} (now {sandbox.state})")
    return sandbox


def stop_all_and_wait(timeout: float = 120) -> None:
    from sandboxes import lifecycle

    for sandbox in Sandbox.objects.exclude(state__in=[State.DELETED, State.FAILED]):
        lifecycle.stop(sandbox, reason="test cleanup")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Sandbox.objects.filter(state__in=[State.DELETING, State.PROVISIONING]).exists():
            break
        time.sleep(0.2)
    # Whatever is left (a failed create's leftovers) goes the way the reconciler sends it.
    for name in kwok_clusters():
        from sandboxes.backends import get_backend
        get_backend("api").delete(name)


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
"""


def pods_running(kubeconfig, selector: str, count: int) -> bool:
    out = kubectl(kubeconfig, "get", "pods", "-l", selector, "-o", "json").stdout
    phases = [p["status"].get("phase") for p in json.loads(out)["items"]]
    return len(phases) == count and all(p == "Running" for p in phases)


@contextlib.contextmanager
def as_lab_instance(instance_id: str | None):
    """Act as another lab instance sharing this Docker host (its own LAB_INSTANCE_ID), or as
    this one with None."""
    from django.test import override_settings

    if instance_id is None:
        yield
        return
    with override_settings(LAB_INSTANCE_ID=instance_id):
        yield


@contextlib.contextmanager
def kind_clusters_or_skip(*names: str, instances: dict[str, str] | None = None):
    """Real kind clusters made through the lab's KindBackend, deleted afterwards; the test is
    skipped, saying why, where the full tier is not built. `instances` names the other lab
    instance that makes (and deletes) a cluster; the rest are this instance's. Yields
    {name: admin kubeconfig}."""
    import pytest

    from sandboxes.backends import get_backend

    backend = get_backend("full")
    health = backend.health()
    if not health.get("ok"):
        pytest.skip(f"the full tier is not built here: {health.get('error')}")
    instances = instances or {}
    made = {}
    try:
        for name in names:
            with as_lab_instance(instances.get(name)):
                made[name] = backend.create(name, lambda *a: None)
        yield made
    finally:
        for name in names:
            with as_lab_instance(instances.get(name)):
                backend.delete(name)


@contextlib.contextmanager
def host_service(marker: str):
    """An HTTP service of the test on this host, listening on every address (0.0.0.0) on a free
    port and answering `marker`, as a careless host service would; stopped afterwards. Yields
    its port."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Marker(BaseHTTPRequestHandler):
        def do_GET(self):
            body = marker.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("0.0.0.0", 0), Marker)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
