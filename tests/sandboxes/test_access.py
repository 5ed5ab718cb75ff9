"""Nobody but the owner drives a sandbox, and nobody but the lab ever sees a kubeconfig."""
import uuid

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone

from lab.asgi import application
from sandboxes.models import Sandbox, State
from sandboxes.progress import publish
from tests.sockets import refusal

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox(owner, tmp_path):
    secret = tmp_path / "kubeconfig"
    secret.write_text("client-key-data: SECRET")
    return Sandbox.objects.create(owner=owner, tier="api", backend="kwok", state=State.READY,
                                  host="elsewhere", kubeconfig=str(secret), ready_at=timezone.now())


def test_the_owner_sees_the_status_without_the_kubeconfig(client, owner, sandbox):
    client.force_login(owner)
    response = client.get(f"/sandboxes/{sandbox.id}/")
    assert response.status_code == 200
    assert response.json()["state"] == "ready"
    assert "kubeconfig" not in response.content.decode() and "SECRET" not in response.content.decode()


def test_another_learner_gets_404_for_every_action(client, other, sandbox):
    client.force_login(other)
    assert client.get(f"/sandboxes/{sandbox.id}/").status_code == 404
    for action in ("stop", "reset", "extend"):
        assert client.post(f"/sandboxes/{sandbox.id}/{action}/").status_code == 404
    sandbox.refresh_from_db()
    assert sandbox.state == State.READY


def test_an_instructor_may_look_but_not_stop(client, instructor, owner, sandbox):
    from classes.models import Cohort, Membership
    cohort = Cohort.objects.create(name="c", course="kubernetes-architecture", instructor=instructor)
    Membership.objects.create(cohort=cohort, user=owner)
    client.force_login(instructor)
    assert client.get(f"/sandboxes/{sandbox.id}/").status_code == 200
    assert client.post(f"/sandboxes/{sandbox.id}/stop/").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, sandbox):
    assert client.get(f"/sandboxes/{sandbox.id}/").status_code == 302


def test_actions_need_post_and_a_csrf_token(owner, sandbox):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    assert strict.post(f"/sandboxes/{sandbox.id}/stop/").status_code == 403
    assert strict.get(f"/sandboxes/{sandbox.id}/stop/").status_code == 405


def test_garbage_ids_are_404(client, owner):
    client.force_login(owner)
    assert client.get("/sandboxes/not-a-uuid/").status_code == 404
    assert client.get(f"/sandboxes/{uuid.uuid4()}/").status_code == 404


def test_an_unknown_tier_is_refused(client, owner):
    client.force_login(owner)
    response = client.post("/sandboxes/start/", {"tier": "gigantic"})
    assert response.status_code == 400 and "Unknown tier" in response.json()["error"]


async def _connect(user, sandbox_id, origin="http://127.0.0.1"):
    from tests.terminal.wsclient import session_cookie

    headers = [(b"origin", origin.encode()), (b"host", b"127.0.0.1")]
    if user is not None:
        headers.append((b"cookie", f"sessionid={await session_cookie(user)}".encode()))
    communicator = WebsocketCommunicator(application, f"/ws/sandboxes/{sandbox_id}/events/", headers=headers)
    connected, code = await communicator.connect()
    return communicator, connected, code


@pytest.mark.asyncio
async def test_progress_reaches_the_owners_page_live(owner, sandbox):
    from channels.db import database_sync_to_async

    communicator, connected, _ = await _connect(owner, sandbox.id)
    assert connected
    first = await communicator.receive_json_from(timeout=5)
    assert first["sandbox"]["state"] == "ready"
    sandbox.message = "Halfway there"
    sandbox.percent = 50
    await database_sync_to_async(publish)(sandbox)
    update = await communicator.receive_json_from(timeout=5)
    assert update["sandbox"]["percent"] == 50 and update["sandbox"]["message"] == "Halfway there"
    await communicator.disconnect()


@pytest.mark.asyncio
async def test_the_events_socket_refuses_strangers_and_foreign_origins(owner, other, sandbox):
    communicator, _, _ = await _connect(other, sandbox.id)
    assert (await refusal(communicator))[0] == 4403
    communicator, _, _ = await _connect(None, sandbox.id)
    assert (await refusal(communicator))[0] == 4401
    _, connected, _ = await _connect(owner, sandbox.id, origin="https://evil.example")
    assert not connected  # refused at the handshake
