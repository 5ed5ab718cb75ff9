"""Ending a sandbox: stopped by its learner, the reaper or a reset, failed from any state, and
its cluster deleted by the host that made it."""
from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone

from sandboxes import coordination, progress
from sandboxes.backends import get_backend
from sandboxes.dispatch import host_queue, send_on_commit
from sandboxes.lifecycle.placement import send_dispatch
from sandboxes.lifecycle.records import record, remove_files
from sandboxes.models import Sandbox, State

log = logging.getLogger(__name__)


def stop(sandbox: Sandbox, reason: str = "stopped") -> bool:
    """Stop the sandbox: a queued one simply ends; one with a cluster is deleted by its host."""
    now = timezone.now()
    if sandbox.transition(State.REQUESTED, State.DELETED, ended_at=now, message="Stopped"):
        record(sandbox, "deleted", reason)
        progress.publish(sandbox)
        return True
    if not sandbox.transition((State.PROVISIONING, State.READY, State.EXPIRING), State.DELETING,
                              message="Stopping your cluster"):
        return False
    record(sandbox, "deleting", reason)
    progress.publish(sandbox)
    send_on_commit("delete", [str(sandbox.id)], queue=host_queue(sandbox.host) if sandbox.host else None)
    return True


def stop_now(sandbox: Sandbox, reason: str = "stopped") -> None:
    """Stop the sandbox and delete its cluster in this process, without a worker (commands and
    tests that made the cluster themselves clean up after themselves)."""
    if sandbox.transition(State.REQUESTED, State.DELETED, ended_at=timezone.now()):
        return
    if sandbox.transition((State.PROVISIONING, State.READY, State.EXPIRING), State.DELETING):
        record(sandbox, "deleting", reason)
    if sandbox.state == State.DELETING:
        delete(sandbox.id)


def delete(sandbox_id) -> str:
    """Delete the cluster of a sandbox in DELETING. Returns "deleted", "wait" (a create is still
    running: try again shortly) or "skipped"."""
    sandbox = Sandbox.objects.filter(pk=sandbox_id).first()
    if sandbox is None or sandbox.state != State.DELETING:
        return "skipped"
    if coordination.is_creating(sandbox.id):
        return "wait"
    get_backend(sandbox.tier).delete(sandbox.cluster)
    remove_files(sandbox)
    if sandbox.transition(State.DELETING, State.DELETED, ended_at=timezone.now(), message="Stopped"):
        record(sandbox, "deleted")
        progress.publish(sandbox)
    send_dispatch()
    return "deleted"


def fail(sandbox_id, reason: str) -> None:
    sandbox = Sandbox.objects.filter(pk=sandbox_id).first()
    if sandbox is None:
        return
    if sandbox.transition((State.REQUESTED, State.PROVISIONING, State.READY, State.EXPIRING),
                          State.FAILED, failure=reason[:2000], ended_at=timezone.now(),
                          message="Your cluster could not be started" if sandbox.state in
                          (State.REQUESTED, State.PROVISIONING) else "Your cluster stopped working"):
        record(sandbox, "failed", reason)
        delete_cluster_quietly(sandbox)
        remove_files(sandbox)
        progress.publish(sandbox)
        send_dispatch()


def delete_cluster_quietly(sandbox: Sandbox) -> None:
    if not sandbox.host or sandbox.host != settings.LAB_HOST:
        return
    try:
        get_backend(sandbox.tier).delete(sandbox.cluster)
    except Exception:  # noqa: BLE001 - the reconciler deletes it later if this fails
        log.warning("could not delete cluster %s; the reconciler will", sandbox.cluster, exc_info=True)
