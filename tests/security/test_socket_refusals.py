"""Every socket refuses a page of this site the same way: accepted, an error message saying why,
then close code 4401 / 4403 / 4404 (docs/terminal-protocol.md); a foreign Origin is refused at
the handshake instead. No cluster is needed: each refusal comes before any shell or check."""
import pytest
from channels.testing import WebsocketCommunicator

from lab.asgi import application
from sandboxes.models import Sandbox, State
from tests.sockets import refusal
from tests.terminal.wsclient import session_cookie

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def _open(path, user=None, origin=b"http://127.0.0.1"):
    headers = [(b"origin", origin), (b"host", b"127.0.0.1")]
    if user is not None:
        headers.append((b"cookie", f"sessionid={await session_cookie(user)}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=20)
    return communicator, connected, code


@pytest.fixture
def owners_sandbox(owner):
    # A row only: every refusal below happens before anything would touch its cluster.
    return Sandbox.objects.create(owner=owner, tier="api", backend="kwok", state=State.READY)


@pytest.fixture
def paths(owners_sandbox):
    return {
        "events": f"/ws/sandboxes/{owners_sandbox.id}/events/",
        "terminal": f"/ws/sandboxes/{owners_sandbox.id}/terminal/",
        "grading": "/ws/courses/kubernetes-architecture/control-plane/grading/",
        "class": "/ws/classes/1/",
    }


@pytest.mark.parametrize("socket", ["events", "terminal", "grading", "class"])
async def test_a_visitor_who_is_not_logged_in_gets_4401_and_a_reason(paths, socket):
    communicator, connected, _ = await _open(paths[socket])
    assert connected
    code, message = await refusal(communicator)
    assert code == 4401 and "not logged in" in message


@pytest.mark.parametrize("socket", ["events", "terminal", "class"])
async def test_someone_elses_sandbox_or_class_gets_4403(paths, other, socket):
    communicator, connected, _ = await _open(paths[socket], other)
    assert connected
    code, message = await refusal(communicator)
    assert code == 4403 and message


@pytest.mark.parametrize("path", ["/ws/sandboxes/not-a-uuid/events/",
                                  "/ws/sandboxes/not-a-uuid/terminal/",
                                  "/ws/courses/kubernetes-architecture/no-such-lesson/grading/",
                                  "/ws/courses/no-such-course/intro/grading/"])
async def test_what_does_not_exist_gets_4404(owner, path):
    communicator, connected, _ = await _open(path, owner)
    assert connected
    code, message = await refusal(communicator)
    assert code == 4404 and "Reload" in message


@pytest.mark.parametrize("socket", ["events", "terminal", "grading", "class"])
async def test_a_foreign_origin_is_refused_at_the_handshake(paths, owner, socket):
    communicator, connected, code = await _open(paths[socket], owner,
                                                origin=b"http://127.0.0.1:9999")
    assert not connected


async def test_the_owner_is_not_refused(owners_sandbox, owner):
    communicator, connected, _ = await _open(f"/ws/sandboxes/{owners_sandbox.id}/events/", owner)
    assert connected
    first = await communicator.receive_json_from(timeout=10)
    assert first["type"] == "sandbox" and first["sandbox"]["id"] == str(owners_sandbox.id)
    await communicator.disconnect()

