"""A script check that waits 40 s (as a verify script waiting for a rollout does) runs off the live
grading loop: the page hears "still checking" for it at once, the lesson's other check still
updates within seconds while it runs, and its pass arrives when it ends. Real kwok cluster, the
real grading socket (Channels), the learner's jail."""
import time

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from lab.asgi import application
from tests.sandboxes.helpers import kubectl
from tests.terminal.wsclient import session_cookie

pytestmark = [pytest.mark.cluster, pytest.mark.asyncio]

LESSON = """---
title: Waiting
exercises:
  - slug: quick
    title: Make a namespace
    checks:
      - {kind: resource, id: quick, object: {kind: Namespace, name: quick-one}, exists: true}
    solution: {commands: kubectl create namespace quick-one}
  - slug: slow
    title: Wait for it
    checks:
      - kind: script
        id: slow
        timeout: 90
        script: |
          echo "=== Waiting for the rollout ==="
          sleep 40
          kubectl get namespace slow-one >/dev/null && echo "✅ slow-one is there" || { echo "❌ no slow-one"; exit 1; }
    solution: {commands: kubectl create namespace slow-one}
---
Text.
"""


def _check(status, exercise):
    return next(e for e in status["exercises"] if e["slug"] == exercise)["checks"][0]


async def _next_status(communicator, until, what: str, seconds: float):
    """Statuses as they come, until one satisfies `until` (within seconds)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = await communicator.receive_json_from(timeout=max(0.1, deadline - time.monotonic()))
        if until(status):
            return status
    raise AssertionError(f"no status with {what} within {seconds} s")


async def test_a_40_second_check_says_still_checking_and_holds_up_nothing(owner, ready_sandbox,
                                                                        api_cluster, course_dir):
    course = course_dir / "waits"
    (course / "lessons").mkdir(parents=True)
    (course / "course.yaml").write_text("title: Waits\nlessons: [waiting]\n")
    (course / "lessons" / "01-waiting.md").write_text(LESSON)
    _, kubeconfig = api_cluster
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1"),
               (b"cookie", f"sessionid={await session_cookie(owner)}".encode())]
    communicator = WebsocketCommunicator(application, "/ws/courses/waits/waiting/grading/",
                                         headers=headers)
    assert (await communicator.connect(timeout=20))[0]
    try:
        first = await communicator.receive_json_from(timeout=20)
        slow = _check(first, "slow")
        assert slow["pending"] and slow["message"].startswith("Still checking")
        assert not _check(first, "quick")["passed"]
        began = time.monotonic()
        await database_sync_to_async(kubectl)(kubeconfig, "create", "namespace", "quick-one")
        await database_sync_to_async(kubectl)(kubeconfig, "create", "namespace", "slow-one")
        # The other check ticks within seconds, while the slow one still runs.
        quick = await _next_status(communicator, lambda s: _check(s, "quick")["passed"],
                                   "the quick check passed", 15)
        assert _check(quick, "slow")["pending"] and time.monotonic() - began < 15
        done = await _next_status(communicator, lambda s: _check(s, "slow")["passed"],
                                  "the slow check passed", 90)
        assert _check(done, "slow")["message"] == "✅ slow-one is there"
        assert not _check(done, "slow")["pending"]
    finally:
        await communicator.disconnect()
        for name in ("quick-one", "slow-one"):
            await database_sync_to_async(kubectl)(kubeconfig, "delete", "namespace", name,
                                                  "--wait=false", check=False)
