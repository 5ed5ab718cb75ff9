"""Who gets a slot on this host, and when: the capacity per tier, the line of waiting sandboxes
(learners before the warm pool, oldest first), and sending creates while there is room."""
from __future__ import annotations

from django.conf import settings
from django.db.models import Case, When

from sandboxes import progress
from sandboxes.dispatch import send_on_commit, send_task
from sandboxes.models import CLUSTER_STATES, Sandbox, State


def host_load(tier: str) -> int:
    """Clusters of this tier that exist or are being made or removed on this host."""
    return Sandbox.objects.filter(host=settings.LAB_HOST, tier=tier,
                                  state__in=CLUSTER_STATES).count()


def room(tier: str) -> int:
    return settings.SANDBOX_CAPACITY.get(tier, 0) - host_load(tier)


def waiting(tier: str):
    """Sandboxes waiting for a slot, in the order they get one: learners first, oldest first."""
    return (Sandbox.objects.filter(tier=tier, state=State.REQUESTED)
            .annotate(is_pool=Case(When(owner__isnull=True, then=1), default=0))
            .order_by("is_pool", "created_at"))


def place_in_line(sandbox: Sandbox) -> int:
    """How many waiting sandboxes are before this one (0: it is next)."""
    return list(waiting(sandbox.tier).values_list("pk", flat=True)).index(sandbox.pk)


def send_dispatch() -> None:
    """A slot may have freed: look at the line again once this transaction commits."""
    send_on_commit("dispatch_queued")


def dispatch_queued() -> int:
    """Send creates for queued sandboxes while this host has room: learners first, then the
    warm pool, oldest first. Returns how many were sent."""
    sent = 0
    for tier in settings.LAB_TIERS:
        free = room(tier)
        if free <= 0:
            for queued in Sandbox.objects.filter(tier=tier, state=State.REQUESTED, owner__isnull=False):
                progress.publish(queued, transition=False)  # positions may have moved
            continue
        for sandbox in waiting(tier)[:free]:
            send_task("provision", [str(sandbox.id)])
            sent += 1
    return sent
