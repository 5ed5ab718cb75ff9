"""What a learner sees of their sandbox: a JSON snapshot (for polling and the first WebSocket
message) and live events pushed to the page through the channel layer."""
from __future__ import annotations

import logging
import statistics

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone

from sandboxes import tiers
from sandboxes.models import Sandbox, State

log = logging.getLogger(__name__)



def group_name(sandbox_id) -> str:
    return f"sandbox.{sandbox_id}"


def learner_group(user_id) -> str:
    """Everything open in one learner's browser that reacts to their lab (e.g. live grading)."""
    return f"learner.{user_id}"


def poke_learner(user_id) -> None:
    """Tell the learner's open pages that their lab changed (a command ran, a state moved)."""
    layer = get_channel_layer()
    if layer is None or user_id is None:
        return
    try:
        async_to_sync(layer.group_send)(learner_group(user_id), {"type": "learner.poke"})
    except Exception:  # noqa: BLE001 - best effort: live grading also polls
        log.warning("could not poke learner %s", user_id, exc_info=True)


def expected_create_seconds(tier: str) -> float:
    """The median of the last 20 creates of this tier on this lab: an honest ETA, not a guess."""
    recent = (Sandbox.objects.filter(tier=tier, ready_at__isnull=False, provisioning_at__isnull=False)
              .order_by("-ready_at").values_list("provisioning_at", "ready_at")[:20])
    durations = [(ready - started).total_seconds() for started, ready in recent if ready > started]
    return statistics.median(durations) if durations else (tiers.get(tier).default_eta if tier in tiers.REGISTRY else 30.0)


def queue_position(sandbox: Sandbox) -> int | None:
    if sandbox.state != State.REQUESTED:
        return None
    ahead = Sandbox.objects.filter(tier=sandbox.tier, state=State.REQUESTED,
                                   owner__isnull=False, created_at__lt=sandbox.created_at).count()
    return ahead + 1


def snapshot(sandbox: Sandbox) -> dict:
    now = timezone.now()
    data = {
        "id": str(sandbox.id),
        "state": sandbox.state,
        "state_label": State(sandbox.state).label,
        "tier": sandbox.tier,
        "step": sandbox.step,
        "percent": sandbox.percent,
        "message": sandbox.message,
        "failure": sandbox.failure,
        "eta_seconds": None,
        "queue_position": queue_position(sandbox),
        "seconds_left": None,
        "usable": sandbox.is_usable,
    }
    if sandbox.state == State.PROVISIONING and sandbox.provisioning_at:
        elapsed = (now - sandbox.provisioning_at).total_seconds()
        data["eta_seconds"] = max(1, round(expected_create_seconds(sandbox.tier) - elapsed))
    if sandbox.state in (State.READY, State.EXPIRING) and sandbox.owner_id:
        data["seconds_left"] = max(0, round((sandbox.idle_deadline - now).total_seconds()))
        data["idle_timeout"] = settings.SANDBOX_IDLE_TIMEOUT
    return data


def publish(sandbox: Sandbox, transition: bool = True) -> None:
    """Push the sandbox's current snapshot to every page watching it. Best effort: a page that
    misses an event still polls. Only a state transition (transition=True) also pokes the
    learner's live grading and their class dashboard: a progress step, a queue position or a
    longer idle deadline changes nothing there is to grade."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group_name(sandbox.id),
                                        {"type": "sandbox.update", "sandbox": snapshot(sandbox)})
    except Exception:  # noqa: BLE001 - a page update must never fail the provisioning itself
        log.warning("could not publish progress of %s", sandbox.id, exc_info=True)
    if transition and sandbox.owner_id:
        poke_learner(sandbox.owner_id)


def report(sandbox: Sandbox, step: str, percent: int, message: str) -> None:
    """Record a provisioning step on the row (for polling) and push it live."""
    percent = max(0, min(100, int(percent)))
    Sandbox.objects.filter(pk=sandbox.pk).update(step=step[:100], percent=percent,
                                                 message=message[:300])
    sandbox.step, sandbox.percent, sandbox.message = step, percent, message
    publish(sandbox, transition=False)
