"""A learner asks for a cluster: the one they have, one claimed from the warm pool, or a new one
queued for creation; a reset (a fresh one for the same lesson); and the activity that keeps it."""
from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sandboxes import coordination, progress, signals
from sandboxes.backends import get_backend
from sandboxes.dispatch import send_on_commit
from sandboxes.lifecycle.records import SandboxRefused, record
from sandboxes.lifecycle.stopping import stop
from sandboxes.models import Sandbox, State

# Activity is written at most this often per sandbox; a busy terminal must not hammer the DB.
TOUCH_EVERY_SECONDS = 20


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
                send_on_commit("refill_pools")
                return claimed
            sandbox = Sandbox.objects.create(owner=user, tier=tier, course=course, lesson=lesson,
                                             backend=get_backend(tier).name, state=State.REQUESTED)
            record(sandbox, "requested", f"by {user}")
            send_on_commit("provision", [str(sandbox.id)])
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


def reset(sandbox: Sandbox) -> Sandbox:
    """A fresh cluster for the same learner, course and lesson."""
    stop(sandbox, reason="reset")
    return start(sandbox.owner, sandbox.tier, sandbox.course, sandbox.lesson)


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
