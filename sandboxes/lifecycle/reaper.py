"""Idle clusters: a warning before the timeout, then a stop. Activity (lifecycle.touch) extends
them."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from sandboxes import progress
from sandboxes.lifecycle.records import record
from sandboxes.lifecycle.stopping import stop
from sandboxes.models import USABLE_STATES, Sandbox, State


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
