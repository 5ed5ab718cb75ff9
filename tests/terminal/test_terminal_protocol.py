"""The terminal WebSocket through the real ASGI app, with a real jailed shell on a real cluster."""
import asyncio
import json

import pytest

from sandboxes.models import CommandRecord
from sandboxes.terminal import registry
from tests.terminal.wsclient import Term

pytestmark = [pytest.mark.cluster, pytest.mark.asyncio]


async def test_hello_then_a_real_shell_bound_to_the_learners_cluster(owner, ready_sandbox):
    term = await Term.open(owner, ready_sandbox.id, query="cols=100&rows=30")
    assert term.connected
    hello = await term.control_message("hello")
    assert hello["readonly"] is False and hello["offset"] == 0 and hello["session"]
    await term.until(b"learner@k8s-lab")
    out = await term.run("kubectl get nodes", "done1")
    assert "worker-1" in out and "Ready" in out
    out = await term.run("tput cols; tput lines", "done2")
    assert "100" in out and "30" in out
    await term.close()


async def test_resize_changes_the_shells_window(owner, ready_sandbox):
    term = await Term.open(owner, ready_sandbox.id)
    await term.control_message("hello")
    await term.send_json({"type": "resize", "cols": 132, "rows": 40})
    await asyncio.sleep(0.2)
    out = await term.run("stty size", "sz")
    assert "40 132" in out
    await term.close()


async def test_a_reconnect_resumes_the_same_shell_at_the_same_offset(owner, ready_sandbox):
    term = await Term.open(owner, ready_sandbox.id)
    hello = await term.control_message("hello")
    out = await term.run("echo pid=$$", "p1")
    pid = out.split("pid=")[1].split()[0]
    await term.close()
    # The page reloads: a new socket, no offset, gets the whole scrollback of the same shell.
    again = await Term.open(owner, ready_sandbox.id)
    hello2 = await again.control_message("hello")
    assert hello2["session"] == hello["session"]
    await again.until(f"pid={pid}".encode())
    out = await again.run("echo pid=$$", "p2")
    assert f"pid={pid}" in out
    await again.close()


async def test_a_reconnect_with_an_offset_gets_only_what_it_missed(owner, ready_sandbox):
    term = await Term.open(owner, ready_sandbox.id)
    await term.control_message("hello")
    await term.run("echo first-part", "a1")
    session = registry.get(ready_sandbox.id)
    offset = session.ring.end
    await term.close()
    again = await Term.open(owner, ready_sandbox.id, query=f"offset={offset}")
    hello = await again.control_message("hello")
    assert hello["offset"] == offset
    await again.run("echo second-part", "a2")
    assert b"first-part" not in again.output
    await again.close()


async def test_commands_are_recorded_with_their_exit_codes(owner, ready_sandbox):
    term = await Term.open(owner, ready_sandbox.id)
    await term.control_message("hello")
    await term.run("kubectl cluster-info", "c1")
    await term.run("kubectl get nodes    ", "c2")
    await term.run("false", "c3")
    for _ in range(50):
        lines = [(r.line, r.exit_code) async for r in CommandRecord.objects.filter(sandbox=ready_sandbox)]
        if len(lines) >= 3:
            break
        await asyncio.sleep(0.1)
    assert ("kubectl cluster-info; echo c1-$((6*7))", 0) in lines
    assert any(line.startswith("false;") for line, _ in lines)
    # The marker that carries them never reaches the screen.
    assert b"\x1b]7770;" not in term.output
    await term.close()


async def test_ctrl_c_stops_a_flood_and_the_prompt_comes_back(owner, ready_sandbox):
    term = await Term.open(owner, ready_sandbox.id)
    await term.control_message("hello")
    await term.run("true", "ready")
    await term.type("yes\r")
    await term.until(b"y\r\ny\r\ny\r\n" * 100, timeout=20)
    await term.type("\x03")
    term.output.clear()
    await term.type("echo after-$((6*7))\r")
    await term.until(b"after-42", timeout=20)
    await term.close()


async def test_flow_control_stops_reading_for_a_client_that_does_not_ack(owner, ready_sandbox):
    term = await Term.open(owner, ready_sandbox.id)
    await term.control_message("hello")
    await term.run("true", "fc")
    session = registry.get(ready_sandbox.id)
    await term.type("yes\r")
    # Read without acking: the server pauses once the learner is HIGH_WATER bytes behind.
    received = 0
    # (receive_nothing, unlike a timed-out receive, does not cancel the application.)
    while not await term.c.receive_nothing(timeout=1.5, interval=0.05):
        chunk = await term.next(timeout=5)
        if isinstance(chunk, bytes):
            received += len(chunk)
    from sandboxes.terminal.session import FRAME_MAX, HIGH_WATER, READ_BURST
    assert received <= HIGH_WATER + READ_BURST + FRAME_MAX
    assert session._reading is False
    end_before = session.ring.end
    await asyncio.sleep(0.5)
    assert session.ring.end == end_before, "nothing more is read while the client is behind"
    # Acknowledging lets it flow again.
    await term.ack()
    await term.next(timeout=5)
    assert session.ring.end > end_before
    await term.type("\x03")
    await term.close()


async def test_hostile_frames_get_a_clear_error_and_the_terminal_survives(owner, ready_sandbox):
    term = await Term.open(owner, ready_sandbox.id)
    await term.control_message("hello")
    for bad in ("not json", json.dumps([1, 2]), json.dumps({"type": "resize", "cols": -1, "rows": 10**9}),
                json.dumps({"type": "ack", "bytes": "lots"}), json.dumps({"type": "rm -rf"}),
                "x" * 5000):
        await term.c.send_to(text_data=bad)
        error = await term.control_message("error")
        assert error["message"]
    await term.c.send_to(bytes_data=b"a" * (64 * 1024 + 1))
    assert "at most" in (await term.control_message("error"))["message"]
    out = await term.run("echo still-alive", "alive")
    assert "still-alive" in out
    await term.close()


async def test_a_flood_of_bad_frames_closes_the_socket(owner, ready_sandbox):
    term = await Term.open(owner, ready_sandbox.id)
    await term.control_message("hello")
    for _ in range(25):
        await term.c.send_to(text_data="garbage")
    with pytest.raises(ConnectionError):
        for _ in range(100):
            await term.next(timeout=5)
    assert term.close_code == 4400


async def test_ping_gets_pong(owner, ready_sandbox):
    term = await Term.open(owner, ready_sandbox.id)
    await term.control_message("hello")
    await term.send_json({"type": "ping"})
    assert (await term.control_message("pong"))["type"] == "pong"
    await term.close()


async def test_exit_ends_the_session_with_its_code(owner, ready_sandbox):
    term = await Term.open(owner, ready_sandbox.id)
    await term.control_message("hello")
    await term.run("true", "x")
    await term.type("exit 3\r")
    message = await term.control_message("exit", timeout=10)
    assert message["code"] == 3
    assert registry.get(ready_sandbox.id) is None
