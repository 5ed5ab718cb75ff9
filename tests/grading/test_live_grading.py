"""Live status over Channels: a status on connect, a new one soon after the cluster changes or
the learner runs a command, nothing when nothing changed, and a bad check never ends the loop."""
import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from lab.asgi import application
from tests.sandboxes.helpers import kubectl
from tests.sockets import refusal
from tests.terminal.wsclient import session_cookie

pytestmark = [pytest.mark.cluster, pytest.mark.asyncio]


async def _open(user, lesson="control-plane"):
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"),
               (b"cookie", f"sessionid={await session_cookie(user)}".encode())]
    communicator = WebsocketCommunicator(application, f"/ws/courses/kubernetes-architecture/{lesson}/grading/",
                                         headers=headers)
    connected, _ = await communicator.connect(timeout=20)
    assert connected
    return communicator


def _exercise(status, slug):
    return next(e for e in status["exercises"] if e["slug"] == slug)


async def test_a_command_in_the_terminal_ticks_the_check_within_seconds(owner, ready_sandbox, settings):
    ready_sandbox.course = "kubernetes-architecture"
    communicator = await _open(owner)
    first = await communicator.receive_json_from(timeout=20)
    assert first["has_sandbox"] is True
    assert not _exercise(first, "explore-cluster")["passed"]
    from sandboxes.commands import record
    loop = asyncio.get_running_loop()
    started = loop.time()
    await database_sync_to_async(record)(ready_sandbox.id, "kubectl cluster-info", 0)
    await database_sync_to_async(record)(ready_sandbox.id, "kubectl get nodes", 0)
    while True:
        status = await communicator.receive_json_from(timeout=10)
        if _exercise(status, "explore-cluster")["passed"]:
            break
    assert loop.time() - started < 5
    await communicator.disconnect()


async def test_nothing_is_sent_while_nothing_changes(owner, ready_sandbox):
    communicator = await _open(owner)
    await communicator.receive_json_from(timeout=20)
    assert await communicator.receive_nothing(timeout=2.5, interval=0.1)
    await communicator.disconnect()


async def test_a_cluster_change_shows_without_any_command(owner, ready_sandbox, api_cluster):
    communicator = await _open(owner, lesson="namespaces")
    status = await communicator.receive_json_from(timeout=20)
    assert not _exercise(status, "create-staging")["checks"][0]["passed"]
    _, kubeconfig = api_cluster
    await database_sync_to_async(kubectl)(kubeconfig, "create", "namespace", "staging")
    try:
        for _ in range(10):
            status = await communicator.receive_json_from(timeout=10)
            if _exercise(status, "create-staging")["checks"][0]["passed"]:
                break
        assert _exercise(status, "create-staging")["checks"][0]["passed"]
        assert "uses the namespace default; expected staging" in _exercise(status, "create-staging")["checks"][1]["message"]
    finally:
        await database_sync_to_async(kubectl)(kubeconfig, "delete", "namespace", "staging", "--wait=false")
        await communicator.disconnect()


async def test_a_check_that_raises_does_not_end_the_loop(owner, ready_sandbox, monkeypatch):
    from courses.grading import engine
    calls = {"n": 0}
    real = engine.grade_lesson

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr("courses.consumers.grade_lesson", flaky)
    communicator = await _open(owner)
    first = await communicator.receive_json_from(timeout=20)
    assert first.get("error")
    second = await communicator.receive_json_from(timeout=20)
    assert second["exercises"]
    await communicator.disconnect()


async def test_strangers_get_no_grading_socket(ready_sandbox):
    communicator = WebsocketCommunicator(application, "/ws/courses/kubernetes-architecture/control-plane/grading/",
                                         headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")])
    await communicator.connect(timeout=10)
    assert (await refusal(communicator))[0] == 4401
