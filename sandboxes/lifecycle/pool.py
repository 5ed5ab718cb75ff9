"""The warm pool: clusters made ahead, owned by nobody, that a learner's start claims."""
from __future__ import annotations

from django.db import transaction

from sandboxes import tiers
from sandboxes.backends import get_backend
from sandboxes.dispatch import send_on_commit
from sandboxes.lifecycle.records import record
from sandboxes.models import ACTIVE_STATES, Sandbox, State


def refill_pools() -> int:
    """Top each offered tier's warm pool up to its size. Returns how many were added."""
    added = 0
    for tier in tiers.enabled():
        have = Sandbox.objects.pool(tier.name).filter(state__in=ACTIVE_STATES).count()
        for _ in range(max(0, tier.pool_size - have)):
            with transaction.atomic():
                sandbox = Sandbox.objects.create(owner=None, tier=tier.name, state=State.REQUESTED,
                                                 backend=get_backend(tier.name).name)
                record(sandbox, "requested", "warm pool")
                send_on_commit("provision", [str(sandbox.id)])
            added += 1
    return added
