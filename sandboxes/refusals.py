"""How every lab WebSocket refuses a client of this site: the close codes, and the one way to
send them, so a page can tell the learner why (docs/terminal-protocol.md, "Close codes").

A socket closed before it is accepted reaches the browser as HTTP 403 and close code 1006, with
no reason a page can read. So a refused page of our own is accepted, sent {"type": "error",
"code": N, "message": "..."} and closed with N. A foreign Origin is still refused at the
handshake (lab/origin.py): another site's page learns nothing and no consumer runs for it.
"""
from __future__ import annotations

import json

# 4000-4999 belong to the application; each mirrors the HTTP status a page would get.
CLOSE_PROTOCOL = 4400  # too many malformed frames
CLOSE_UNAUTHENTICATED = 4401  # not logged in
CLOSE_FORBIDDEN = 4403  # not yours (or no such sandbox or class: the same answer, nothing leaks)
CLOSE_NOT_FOUND = 4404  # no such thing, where saying so gives nothing away
CLOSE_NOT_RUNNING = 4409  # the cluster is not running
CLOSE_TOO_MANY = 4429  # too many terminals open

MESSAGES = {
    CLOSE_UNAUTHENTICATED: "You are not logged in (any more). Log in and reload the page.",
    CLOSE_FORBIDDEN: "You may not open this. Reload the page, or log in as its owner.",
    CLOSE_NOT_FOUND: "There is no such thing here (any more). Reload the page.",
}


async def refuse(consumer, code: int, message: str | None = None, accepted: bool = False) -> None:
    """Accept the socket (unless it already is), say why in an error message, close with code."""
    if not accepted:
        await consumer.accept()
    await consumer.send(text_data=json.dumps(
        {"type": "error", "code": code, "message": message or MESSAGES.get(code, "Refused.")}))
    await consumer.close(code=code)
