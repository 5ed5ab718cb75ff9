"""The full tier through the real path, as the lab runs it: the Celery worker makes kind clusters
for its warm pool; a learner switches from an API cluster to a full one and gets the pool's at
once; the host's capacity queues the next learner; the reaper stops an idle full cluster and the
queued learner gets the slot. Real Docker and kind; skipped where the full tier is not built."""
from datetime import timedelta

import pytest
from django.utils import timezone

from sandboxes import lifecycle, reconciler
from sandboxes.backends import get_backend
from sandboxes.models import Sandbox, State
from sandboxes.progress import queue_position
from tests.processes import wait_for
from tests.sandboxes.helpers import kubectl, stop_all_and_wait, wait_state

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

KIND_TIMEOUT = 300  # a kind create is about 35 s alone; the shared machine may be busy


def kind_clusters() -> list[str]:
    return get_backend("full").list_clusters()


@pytest.fixture
def full_tier_worker(celery_worker, settings):
    health = get_backend("full").health()
    if not health.get("ok"):
        pytest.skip(f"the full tier is not built here: {health.get('error')}")
    # One full cluster fits this host and the worker keeps one warm.
    env = {"LAB_TIERS": "api,full", "SANDBOX_POOL_FULL": "1", "SANDBOX_CAPACITY_FULL": "1"}
    settings.LAB_TIERS = ["api", "full"]
    settings.SANDBOX_POOL = {**settings.SANDBOX_POOL, "full": 1}
    settings.SANDBOX_CAPACITY = {**settings.SANDBOX_CAPACITY, "full": 1}
    celery_worker.restart(**env)
    yield celery_worker
    settings.SANDBOX_POOL = {**settings.SANDBOX_POOL, "full": 0}
    celery_worker.restart()
    stop_all_and_wait(timeout=KIND_TIMEOUT)
    for name in kind_clusters():
        if name.startswith("k8slab-"):
            get_backend("full").delete(name)


def test_a_learner_switches_to_a_warm_full_cluster_and_the_quota_and_reaper_hold(
        owner, django_user_model, full_tier_worker, settings):
    pooled = wait_for(lambda: Sandbox.objects.filter(owner__isnull=True, tier="full",
                                                     state=State.READY).first(),
                      KIND_TIMEOUT, "the worker to make a warm full cluster")
    assert pooled.cluster in kind_clusters()

    # The learner has an API cluster; a full-tier exercise makes them switch (within one lab).
    api = wait_state(lifecycle.start(owner, "api"), State.READY, 120)
    with pytest.raises(lifecycle.SandboxRefused):
        lifecycle.start(owner, "full")  # without replace: one lab per learner
    full = lifecycle.start(owner, "full", replace=True)
    assert full.pk == pooled.pk and full.state == State.READY  # the warm claim
    wait_state(api, State.DELETED, 120)
    pods = kubectl(full.kubeconfig, "get", "pods", "-n", "kube-system", "-o", "name").stdout
    assert "pod/etcd-" in pods and "pod/kube-apiserver-" in pods

    # The host holds one full cluster: the next learner waits in line, told their place.
    bob = django_user_model.objects.create_user("bob", "bob@example.com", "pw-bob-12345")
    waiting = lifecycle.start(bob, "full")
    assert waiting.state == State.REQUESTED and queue_position(waiting) == 1

    # Idle past the timeout: the reaper stops the learner's cluster, and bob gets the slot.
    Sandbox.objects.filter(pk=full.pk).update(
        last_activity_at=timezone.now() - timedelta(seconds=settings.SANDBOX_IDLE_TIMEOUT + 60))
    assert lifecycle.reap()["stopped"] == 1
    wait_state(full, State.DELETED, 120)
    assert full.cluster not in kind_clusters()
    wait_state(waiting, State.READY, KIND_TIMEOUT)
    assert waiting.cluster in kind_clusters()
    assert "Ready" in kubectl(waiting.kubeconfig, "get", "nodes").stdout

    # A kind cluster the database no longer knows is an orphan: the reconciler deletes it.
    Sandbox.objects.filter(pk=waiting.pk).update(state=State.DELETED)
    assert waiting.cluster in reconciler.reconcile()["orphans_deleted"]
    assert waiting.cluster not in kind_clusters()
