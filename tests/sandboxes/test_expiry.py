"""Idle sandboxes are warned, then stopped; activity pushes the deadline back."""
from datetime import timedelta

import pytest
from django.utils import timezone

from sandboxes import lifecycle
from sandboxes.models import Sandbox, State

pytestmark = pytest.mark.django_db(transaction=True)


def _ready(owner, idle_seconds):
    return Sandbox.objects.create(owner=owner, tier="api", backend="kwok", state=State.READY,
                                  host="elsewhere",
                                  last_activity_at=timezone.now() - timedelta(seconds=idle_seconds))


def test_it_warns_before_it_stops(owner, settings):
    settings.SANDBOX_IDLE_TIMEOUT, settings.SANDBOX_WARN_BEFORE = 600, 120
    fresh, idle = _ready(owner, 10), _ready(owner, 500)
    assert lifecycle.reap() == {"warned": 1, "stopped": 0}
    fresh.refresh_from_db(), idle.refresh_from_db()
    assert fresh.state == State.READY and idle.state == State.EXPIRING and idle.warned_at


def test_it_stops_sandboxes_idle_past_the_timeout(owner, settings):
    settings.SANDBOX_IDLE_TIMEOUT, settings.SANDBOX_WARN_BEFORE = 600, 120
    gone = _ready(owner, 700)
    assert lifecycle.reap()["stopped"] == 1
    gone.refresh_from_db()
    assert gone.state == State.DELETING


def test_activity_lifts_the_warning_and_extends_the_deadline(owner, settings):
    settings.SANDBOX_IDLE_TIMEOUT, settings.SANDBOX_WARN_BEFORE = 600, 120
    sandbox = _ready(owner, 500)
    lifecycle.reap()
    sandbox.refresh_from_db()
    before = sandbox.idle_deadline
    lifecycle.touch(sandbox)
    sandbox.refresh_from_db()
    assert sandbox.state == State.READY and sandbox.warned_at is None
    assert sandbox.idle_deadline > before


def test_pool_sandboxes_never_expire(settings):
    settings.SANDBOX_IDLE_TIMEOUT = 60
    pooled = Sandbox.objects.create(owner=None, tier="api", backend="kwok", state=State.READY,
                                    last_activity_at=timezone.now() - timedelta(days=1))
    lifecycle.reap()
    pooled.refresh_from_db()
    assert pooled.state == State.READY


def test_state_changes_are_claimed_once(owner):
    sandbox = _ready(owner, 0)
    twin = Sandbox.objects.get(pk=sandbox.pk)
    assert sandbox.transition(State.READY, State.DELETING)
    assert not twin.transition(State.READY, State.DELETING)
