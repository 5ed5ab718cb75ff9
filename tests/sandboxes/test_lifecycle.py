"""A learner's sandbox through the real path: views/commands -> Celery worker -> kwokctl."""
import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from sandboxes import lifecycle, reconciler
from sandboxes.models import Sandbox, State
from tests.processes import ROOT, child_env, wait_for
from tests.sandboxes.helpers import (
    DEPLOYMENT,
    kubectl,
    kwok_clusters,
    pods_running,
    running_processes_of,
    wait_state,
)

pytestmark = [pytest.mark.cluster, pytest.mark.usefixtures("clean_clusters")]


def test_start_creates_a_real_cluster_through_the_worker(owner):
    sandbox = lifecycle.start(owner, "api", course="kubernetes-architecture", lesson="control-plane")
    assert sandbox.state == State.REQUESTED
    wait_state(sandbox, State.READY, 120)
    assert sandbox.cluster in kwok_clusters()
    assert sandbox.percent == 100 and sandbox.host == settings.LAB_HOST
    kubeconfig = Path(sandbox.kubeconfig)
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    assert stat.S_IMODE(kubeconfig.parent.stat().st_mode) == 0o711  # traversable, not listable
    assert "worker-1" in kubectl(kubeconfig, "get", "nodes").stdout
    kubectl(kubeconfig, "apply", "-f", "-", input=DEPLOYMENT)
    wait_for(lambda: pods_running(kubeconfig, "app=web", 3), 60, "3 Running pods")
    kinds = list(sandbox.events.values_list("kind", flat=True))
    assert kinds[:3] == ["requested", "provisioning", "ready"]

    assert lifecycle.stop(sandbox)
    wait_state(sandbox, State.DELETED, 60)
    assert sandbox.cluster not in kwok_clusters()
    assert not kubeconfig.exists()
    assert running_processes_of(sandbox.cluster) == []


def _manage(*args):
    env = {**child_env(), "DATABASE_URL": f"sqlite:///{settings.DATABASES['default']['NAME']}"}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_sandbox_command_starts_lists_and_stops(owner):
    result = _manage("sandbox", "start", "--user", owner.username, "--tier", "api", "--wait", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"id", "state", "tier", "backend", "kubeconfig", "seconds"}
    assert data["state"] == "ready" and data["tier"] == "api" and data["backend"] == "kwok"
    assert Path(data["kubeconfig"]).is_absolute() and Path(data["kubeconfig"]).exists()
    listed = json.loads(_manage("sandbox", "list", "--json").stdout)
    assert [row["id"] for row in listed] == [data["id"]]
    stopped = _manage("sandbox", "stop", data["id"], "--wait", "--json")
    assert json.loads(stopped.stdout)["state"] == "deleted", stopped.stderr
    assert _manage("sandbox", "start", "--user", "nobody").returncode != 0


@pytest.fixture
def worker_with_a_pool(celery_worker):
    # The worker fills its pool when it starts, and refills it after every claim.
    celery_worker.restart(SANDBOX_POOL_API="1")
    yield celery_worker
    from tests.sandboxes.helpers import stop_all_and_wait
    celery_worker.restart()
    stop_all_and_wait()


def test_a_warm_pool_cluster_is_claimed_at_once(owner, worker_with_a_pool):
    pooled = wait_for(lambda: Sandbox.objects.filter(owner__isnull=True, state=State.READY).first(),
                      120, "the worker to fill the pool at start-up")
    claimed = lifecycle.start(owner, "api")
    assert claimed.pk == pooled.pk and claimed.state == State.READY
    assert claimed.owner == owner and claimed.claimed_at is not None
    assert claimed.events.filter(kind="claimed").exists()
    wait_for(lambda: Sandbox.objects.filter(owner__isnull=True, state=State.READY).exists(), 120,
             "the pool to refill after the claim")


def test_one_learner_has_one_sandbox_and_a_second_start_resumes_it(owner, settings):
    settings.LAB_TIERS = ["api", "full"]
    first = lifecycle.start(owner, "api")
    again = lifecycle.start(owner, "api")
    assert again.pk == first.pk
    with pytest.raises(lifecycle.SandboxRefused, match="Stop it before starting another"):
        lifecycle.start(owner, "full")


def test_a_full_host_queues_learners_with_their_position(django_user_model, settings):
    # The worker runs with SANDBOX_CAPACITY_API=3 (tests/harness.py).
    users = [django_user_model.objects.create_user(f"learner{i}") for i in range(5)]
    sandboxes = [lifecycle.start(u, "api") for u in users]
    for sandbox in sandboxes[:3]:
        wait_state(sandbox, State.READY, 180)
    for sandbox in sandboxes[3:]:
        sandbox.refresh_from_db()
        assert sandbox.state == State.REQUESTED
    from sandboxes.progress import snapshot
    assert snapshot(sandboxes[3])["queue_position"] == 1
    assert snapshot(sandboxes[4])["queue_position"] == 2
    lifecycle.stop(sandboxes[0])
    wait_state(sandboxes[3], State.READY, 180)
    assert snapshot(sandboxes[4])["queue_position"] == 1


def test_a_worker_killed_mid_create_leaves_no_orphan_and_the_next_start_works(owner, celery_worker):
    sandbox = lifecycle.start(owner, "api")
    wait_for(lambda: Sandbox.objects.get(pk=sandbox.pk).step in ("control-plane", "api-ready", "node"),
             60, "kwokctl to be creating the cluster")
    os.killpg(celery_worker.service.proc.pid, signal.SIGKILL)
    celery_worker.service.proc.wait()
    # The worker's "creating" mark expires (SANDBOX_MARKER_TTL) and the reconciler takes over.
    from sandboxes import coordination
    wait_for(lambda: not coordination.is_creating(sandbox.id), 30, "the creating mark to expire")
    result = reconciler.reconcile()
    sandbox.refresh_from_db()
    assert sandbox.state == State.FAILED and "worker" in sandbox.failure
    assert str(sandbox.id) in result["abandoned"]
    assert sandbox.cluster not in kwok_clusters()
    wait_for(lambda: running_processes_of(sandbox.cluster) == [], 20, "its processes to be gone")
    celery_worker.restart()
    again = lifecycle.start(owner, "api")
    assert again.pk != sandbox.pk
    wait_state(again, State.READY, 120)


def test_reconcile_deletes_orphans_and_fails_lost_sandboxes(owner):
    from sandboxes.backends import get_backend

    backend = get_backend("api")
    backend.create("k8slab-orphan01", lambda *a: None)  # a cluster with no sandbox row
    sandbox = lifecycle.start(owner, "api")
    wait_state(sandbox, State.READY, 120)
    backend.delete(sandbox.cluster)  # its cluster vanishes behind the lab's back
    result = _manage("sandbox", "reconcile", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["orphans_deleted"] == ["k8slab-orphan01"]
    assert data["lost"] == [str(sandbox.id)]
    sandbox.refresh_from_db()
    assert sandbox.state == State.FAILED and "disappeared" in sandbox.failure
    assert kwok_clusters() == []


def test_a_create_that_fails_says_why_and_leaves_nothing(owner, settings, tmp_path, celery_worker):
    # A permanent failure (here: the toolchain vanished) is not retried; the learner reads why.
    sandbox = Sandbox.objects.create(owner=owner, tier="api", backend="kwok", state=State.REQUESTED)
    settings.TOOLCHAIN_BIN = tmp_path
    from sandboxes.tasks import provision
    assert provision.apply(args=[str(sandbox.id)]).get() == "failed"
    sandbox.refresh_from_db()
    assert sandbox.state == State.FAILED and "kwokctl is not installed" in sandbox.failure
    assert sandbox.cluster not in kwok_clusters()
