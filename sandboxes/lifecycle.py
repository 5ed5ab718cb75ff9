"""The verbs of a sandbox's life: start (or claim from the warm pool), create, stop, expire
(the reconciler is sandboxes/reconciler.py). Views, commands and Celery tasks all go through
these functions.

Every state change is a conditional UPDATE (Sandbox.transition) and every step may run twice:
creating what exists and deleting what is gone both count as success.
"""
from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Case, When
from django.utils import timezone

from sandboxes import coordination, progress, signals
from sandboxes.backends import get_backend
from sandboxes.jail.layout import JailLayout
from sandboxes.models import (ACTIVE_STATES, CLUSTER_STATES, USABLE_STATES, Sandbox,
                              SandboxEvent, State)
from sandboxes.tools import run, tool_path

log = logging.getLogger(__name__)
# Activity is written at most this often per sandbox; a busy terminal must not hammer the DB.
TOUCH_EVERY_SECONDS = 20


class SandboxRefused(Exception):
    """The learner cannot have a sandbox now; the message says why, in words for them."""


def host_queue(host: str) -> str:
    return f"{settings.CELERY_TASK_DEFAULT_QUEUE}.{host}"


def worker_queues() -> str:
    """The queues a worker on this host consumes: the shared one and its host's own."""
    return f"{settings.CELERY_TASK_DEFAULT_QUEUE},{host_queue(settings.LAB_HOST)}"


def sandbox_dir(sandbox: Sandbox) -> Path:
    return Path(settings.SANDBOX_DIR) / str(sandbox.id)


def record(sandbox: Sandbox, kind: str, detail: str = "") -> None:
    SandboxEvent.objects.create(sandbox=sandbox, kind=kind, detail=detail[:2000])


def send_task(name: str, args: list | None = None, queue: str | None = None) -> None:
    """Send the task sandboxes.tasks.<name> now. By name: that module imports this one."""
    current_app.send_task(f"sandboxes.tasks.{name}", args=args or [],
                          **({"queue": queue} if queue else {}))


def _send(name: str, sandbox: Sandbox, queue: str | None = None) -> None:
    """Send a task for this sandbox once the current transaction commits (never before: the
    worker must find the row as we left it)."""
    sandbox_id = str(sandbox.id)
    transaction.on_commit(lambda: send_task(name, [sandbox_id], queue))


# Starting -----------------------------------------------------------------------------------

def start(user, tier: str = "api", course: str = "", lesson: str = "",
          replace: bool = False) -> Sandbox:
    """The learner's sandbox of this tier: the one they already have, one claimed from the warm
    pool, or a new one queued for creation. With `replace`, the learner's labs of other tiers are
    stopped first (switching from an API cluster to a full one within their quota)."""
    if tier not in settings.LAB_TIERS:
        raise SandboxRefused(f"This lab does not offer {tier!r} clusters right now.")
    # One start at a time per learner, so a double click cannot create two clusters.
    lock = coordination.client().lock(f"{coordination._prefix()}:start:{user.pk}", timeout=30,
                                      blocking_timeout=30)
    with lock:
        active = Sandbox.objects.active().owned_by(user)
        same = active.filter(tier=tier).first()
        if same is not None:
            touch(same, force=True)
            return same
        if replace:
            for other in active.exclude(tier=tier):
                stop(other, reason=f"replaced by a {tier} cluster for {user}")
            active = Sandbox.objects.active().owned_by(user)
        if active.count() >= settings.SANDBOX_PER_LEARNER:
            other = active.first()
            raise SandboxRefused(
                f"You already have {active.count()} lab(s) running (a {other.tier} cluster). "
                "Stop it before starting another.")
        with transaction.atomic():
            claimed = _claim_from_pool(user, tier, course, lesson)
            if claimed is not None:
                record(claimed, "claimed", f"by {user} from the warm pool")
                signals.announce_ready(claimed)
                _send_refill()
                return claimed
            sandbox = Sandbox.objects.create(owner=user, tier=tier, course=course, lesson=lesson,
                                             backend=get_backend(tier).name, state=State.REQUESTED)
            record(sandbox, "requested", f"by {user}")
            _send("provision", sandbox)
            return sandbox


def _claim_from_pool(user, tier: str, course: str, lesson: str) -> Sandbox | None:
    now = timezone.now()
    candidates = (Sandbox.objects.pool(tier).filter(state=State.READY)
                  .order_by("ready_at").values_list("pk", flat=True)[:5])
    for pk in candidates:
        # Another learner may take the same one at the same moment: only one UPDATE matches.
        won = Sandbox.objects.filter(pk=pk, owner__isnull=True, state=State.READY).update(
            owner=user, claimed_at=now, last_activity_at=now, course=course, lesson=lesson)
        if won:
            return Sandbox.objects.get(pk=pk)
    return None


def _send_refill() -> None:
    transaction.on_commit(lambda: send_task("refill_pools"))


def touch(sandbox: Sandbox, force: bool = False) -> None:
    """The learner did something: push the idle deadline back (and lift a warning)."""
    now = timezone.now()
    if not force and (now - sandbox.last_activity_at).total_seconds() < TOUCH_EVERY_SECONDS:
        return
    Sandbox.objects.filter(pk=sandbox.pk).update(last_activity_at=now)
    sandbox.last_activity_at = now
    if sandbox.state == State.EXPIRING and sandbox.transition(State.EXPIRING, State.READY, warned_at=None):
        record(sandbox, "extended", "activity")
        progress.publish(sandbox)


# Creating -----------------------------------------------------------------------------------

def host_load(tier: str) -> int:
    """Clusters of this tier that exist or are being made or removed on this host."""
    return Sandbox.objects.filter(host=settings.LAB_HOST, tier=tier,
                                  state__in=CLUSTER_STATES).count()


def create(sandbox_id) -> str:
    """Create the sandbox's cluster if there is room on this host. Returns what happened:
    "ready", "queued" (no room: it waits), or "skipped" (nothing for this worker to do)."""
    sandbox = Sandbox.objects.filter(pk=sandbox_id).first()
    if sandbox is None:
        return "skipped"
    if sandbox.state == State.REQUESTED:
        with coordination.capacity_lock(sandbox.tier):
            room = settings.SANDBOX_CAPACITY.get(sandbox.tier, 0) - host_load(sandbox.tier)
            # First come, first served: a free slot goes to whoever waited longest (learners
            # before the warm pool), not to whichever task a worker happened to pick up first.
            if room <= 0 or _place_in_line(sandbox) >= room:
                progress.publish(sandbox, transition=False)  # the page shows the queue position
                if room > 0:
                    _send_dispatch()
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
        progress.report(sandbox, "starting", 2, f"Creating your {sandbox.tier} cluster")
        source = backend.create(sandbox.cluster,
                                lambda step, pct, msg: progress.report(sandbox, step, pct, msg))
        kubeconfig = _install_kubeconfig(sandbox, source)
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


def _waiting(tier: str):
    """Sandboxes waiting for a slot, in the order they get one: learners first, oldest first."""
    return (Sandbox.objects.filter(tier=tier, state=State.REQUESTED)
            .annotate(is_pool=Case(When(owner__isnull=True, then=1), default=0))
            .order_by("is_pool", "created_at"))


def _place_in_line(sandbox: Sandbox) -> int:
    """How many waiting sandboxes are before this one (0: it is next)."""
    return list(_waiting(sandbox.tier).values_list("pk", flat=True)).index(sandbox.pk)


def _install_kubeconfig(sandbox: Sandbox, source: Path) -> Path:
    """Copy the backend's kubeconfig into the sandbox's own directory, readable only by the lab
    (0600), with its certificates embedded: it is handed to the owner's terminal and checks,
    never served to a browser."""
    directory = sandbox_dir(sandbox)
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o711)  # the jail's uid must reach its home below; nothing is listable
    flat = run([tool_path("kubectl"), "config", "view", "--raw", "--flatten", "--kubeconfig",
                str(source)], timeout=20).stdout
    target = directory / "kubeconfig"
    tmp = directory / ".kubeconfig.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(flat)
    os.replace(tmp, target)
    return target


def note_retry(sandbox_id, error: Exception, attempt: int, countdown: int) -> None:
    sandbox = Sandbox.objects.get(pk=sandbox_id)
    _delete_cluster_quietly(sandbox)
    # Keep the "being created" marker through the back-off so the reconciler leaves it alone.
    coordination.hold_creating(sandbox.id, countdown + 60)
    record(sandbox, "retry", f"attempt {attempt}: {error}")
    progress.report(sandbox, "retrying", 5,
                    f"Starting again after a problem (attempt {attempt + 1}): {error}"[:300])


def fail(sandbox_id, reason: str) -> None:
    sandbox = Sandbox.objects.filter(pk=sandbox_id).first()
    if sandbox is None:
        return
    if sandbox.transition((State.REQUESTED, State.PROVISIONING, State.READY, State.EXPIRING),
                          State.FAILED, failure=reason[:2000], ended_at=timezone.now(),
                          message="Your cluster could not be started" if sandbox.state in
                          (State.REQUESTED, State.PROVISIONING) else "Your cluster stopped working"):
        record(sandbox, "failed", reason)
        _delete_cluster_quietly(sandbox)
        _remove_files(sandbox)
        progress.publish(sandbox)
        _send_dispatch()


def _delete_cluster_quietly(sandbox: Sandbox) -> None:
    if not sandbox.host or sandbox.host != settings.LAB_HOST:
        return
    try:
        get_backend(sandbox.tier).delete(sandbox.cluster)
    except Exception:  # noqa: BLE001 - the reconciler deletes it later if this fails
        log.warning("could not delete cluster %s; the reconciler will", sandbox.cluster, exc_info=True)


def _remove_files(sandbox: Sandbox) -> None:
    JailLayout(sandbox_dir(sandbox), sandbox.id).remove()  # its processes and home mount too


# Stopping -----------------------------------------------------------------------------------

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
    _send("delete", sandbox, queue=host_queue(sandbox.host) if sandbox.host else None)
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


def reset(sandbox: Sandbox) -> Sandbox:
    """A fresh cluster for the same learner, course and lesson."""
    stop(sandbox, reason="reset")
    return start(sandbox.owner, sandbox.tier, sandbox.course, sandbox.lesson)


def delete(sandbox_id) -> str:
    """Delete the cluster of a sandbox in DELETING. Returns "deleted", "wait" (a create is still
    running: try again shortly) or "skipped"."""
    sandbox = Sandbox.objects.filter(pk=sandbox_id).first()
    if sandbox is None or sandbox.state != State.DELETING:
        return "skipped"
    if coordination.is_creating(sandbox.id):
        return "wait"
    get_backend(sandbox.tier).delete(sandbox.cluster)
    _remove_files(sandbox)
    if sandbox.transition(State.DELETING, State.DELETED, ended_at=timezone.now(), message="Stopped"):
        record(sandbox, "deleted")
        progress.publish(sandbox)
    _send_dispatch()
    return "deleted"


def _send_dispatch() -> None:
    transaction.on_commit(lambda: send_task("dispatch_queued"))


# Background jobs ----------------------------------------------------------------------------

def dispatch_queued() -> int:
    """Send creates for queued sandboxes while this host has room: learners first, then the
    warm pool, oldest first. Returns how many were sent."""
    sent = 0
    for tier in settings.LAB_TIERS:
        room = settings.SANDBOX_CAPACITY.get(tier, 0) - host_load(tier)
        if room <= 0:
            for waiting in Sandbox.objects.filter(tier=tier, state=State.REQUESTED, owner__isnull=False):
                progress.publish(waiting, transition=False)  # positions may have moved
            continue
        queued = _waiting(tier)[:room]
        for sandbox in queued:
            send_task("provision", [str(sandbox.id)])
            sent += 1
    return sent


def refill_pools() -> int:
    """Top each tier's warm pool up to its size. Returns how many pool sandboxes were added."""
    added = 0
    for tier in settings.LAB_TIERS:
        want = settings.SANDBOX_POOL.get(tier, 0)
        have = Sandbox.objects.pool(tier).filter(state__in=ACTIVE_STATES).count()
        for _ in range(max(0, want - have)):
            with transaction.atomic():
                sandbox = Sandbox.objects.create(owner=None, tier=tier, state=State.REQUESTED,
                                                 backend=get_backend(tier).name)
                record(sandbox, "requested", "warm pool")
                _send("provision", sandbox)
            added += 1
    return added


def reap() -> dict:
    """Warn learners whose clusters sit idle, and stop those idle past the timeout."""
    now = timezone.now()
    idle = timedelta(seconds=settings.SANDBOX_IDLE_TIMEOUT)
    warn = timedelta(seconds=max(0, settings.SANDBOX_IDLE_TIMEOUT - settings.SANDBOX_WARN_BEFORE))
    warned = stopped = 0
    for sandbox in Sandbox.objects.filter(state=State.READY, owner__isnull=False,
                                          last_activity_at__lt=now - warn):
        if sandbox.transition(State.READY, State.EXPIRING, warned_at=now):
            record(sandbox, "expiring")
            progress.publish(sandbox)
            warned += 1
    for sandbox in Sandbox.objects.filter(state__in=USABLE_STATES, owner__isnull=False,
                                          last_activity_at__lt=now - idle):
        if stop(sandbox, reason="idle timeout"):
            stopped += 1
    return {"warned": warned, "stopped": stopped}
