"""Helpers for the lab's WebSockets in tests: how a refusal looks from the client's side."""
from __future__ import annotations

import json


async def refusal(communicator, timeout: float = 10) -> tuple[int | None, str]:
    """Read a socket the lab accepted in order to refuse it (sandboxes/refusals.py) until it
    closes: returns (close code, the error message it sent)."""
    message = ""
    for _ in range(20):  # a refusal is one message and a close; anything else fails the test
        output = await communicator.receive_output(timeout)
        if output["type"] == "websocket.close":
            return output.get("code"), message
        data = json.loads(output.get("text") or "{}")
        if data.get("type") == "error":
            message = data.get("message", "")
    raise AssertionError("the socket was not closed: it was not refused")
