"""Making a sandbox's cluster on this host (the worker's job): take a slot or wait in line,
create it through its tier's backend with progress on the learner's page, and retry."""
from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from sandboxes import coordination, progress, signals, tiers
from sandboxes.backends import get_backend
from sandboxes.lifecycle.placement import place_in_line, room, send_dispatch
from sandboxes.lifecycle.records import install_kubeconfig, record
from sandboxes.lifecycle.stopping import delete_cluster_quietly
from sandboxes.models import Sandbox, State


def create(sandbox_id) -> str:
    """Create the sandbox's cluster if there is room on this host. Returns what happened:
    "ready", "queued" (no room: it waits), or "skipped" (nothing for this worker to do)."""
    sandbox = Sandbox.objects.filter(pk=sandbox_id).first()
    if sandbox is None:
        return "skipped"
    if sandbox.state == State.REQUESTED:
        with coordination.capacity_lock(sandbox.tier):
            free = room(sandbox.tier)
            # First come, first served: a free slot goes to whoever waited longest (learners
            # before the warm pool), not to whichever task a worker happened to pick up first.
            if free <= 0 or place_in_line(sandbox) >= free:
                progress.publish(sandbox, transition=False)  # the page shows the queue position
                if free > 0:
                    send_dispatch()
                return "queued"
            if not sandbox.transition(State.REQUESTED, State.PROVISIONING, host=settings.LAB_HOST,
                                      provisioning_at=timezone.now()):
                return "skipped"
        record(sandbox, "provisioning", f"on {settings.LAB_HOST}")
    elif sandbox.state == State.PROVISIONING and sandbox.host == settings.LAB_HOST:
        # A redelivered or retried task: carry on unless a live worker is already on it.
        if coordination.is_creating(sandbox.id):
            return "skipped"
    else:
        return "skipped"

    backend = get_backend(sandbox.tier)
    with coordination.creating(sandbox.id):
        progress.report(sandbox, "starting", 2, f"Creating your {tiers.label(sandbox.tier)}")
        source = backend.create(sandbox.cluster,
                                lambda step, pct, msg: progress.report(sandbox, step, pct, msg))
        kubeconfig = install_kubeconfig(sandbox, source)
        now = timezone.now()
        became_ready = sandbox.transition(
            State.PROVISIONING, State.READY, ready_at=now, kubeconfig=str(kubeconfig),
            step="ready", percent=100, message="Your cluster is ready",
            **({"last_activity_at": now} if sandbox.owner_id else {}))
    if not became_ready:
        # Stopped while it was being created: the delete task (waiting for us) removes it.
        return "skipped"
    record(sandbox, "ready", f"{(sandbox.ready_at - sandbox.provisioning_at).total_seconds():.1f}s")
    progress.publish(sandbox)
    signals.announce_ready(sandbox)
    return "ready"


def note_retry(sandbox_id, error: Exception, attempt: int, countdown: int) -> None:
    sandbox = Sandbox.objects.get(pk=sandbox_id)
    delete_cluster_quietly(sandbox)
    # Keep the "being created" marker through the back-off so the reconciler leaves it alone.
    coordination.hold_creating(sandbox.id, countdown + 60)
    record(sandbox, "retry", f"attempt {attempt}: {error}")
    progress.report(sandbox, "retrying", 5,
                    f"Starting again after a problem (attempt {attempt + 1}): {error}"[:300])
