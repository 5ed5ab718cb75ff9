"""The lab's terminal protocol (docs/terminal-protocol.md) spoken to a running site over a real
WebSocket, as the page does: the session cookie, the site's own Origin, binary frames for the
terminal's bytes, JSON text frames for control, and acks as output is read. The in-process twin
is tests/terminal/wsclient.py."""
from __future__ import annotations

import json
import time

from websockets.sync.client import connect

ACK_EVERY = 65536


class RemoteTerm:
    def __init__(self, site, sandbox_id: str):
        ws_url = site.url.replace("http://", "ws://", 1) + f"/ws/sandboxes/{sandbox_id}/terminal/"
        self.ws = connect(ws_url, origin=site.url, open_timeout=30,
                          additional_headers={"Cookie": f"sessionid={site.cookie('sessionid')}"})
        self.output = bytearray()
        self.control: list[dict] = []
        self.unacked = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.ws.close()

    def _receive(self, timeout: float) -> None:
        message = self.ws.recv(timeout=timeout)
        if isinstance(message, bytes):
            self.output += message
            self.unacked += len(message)
            if self.unacked >= ACK_EVERY:
                self.ws.send(json.dumps({"type": "ack", "bytes": self.unacked}))
                self.unacked = 0
        else:
            self.control.append(json.loads(message))

    def hello(self, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while not any(m.get("type") == "hello" for m in self.control):
            self._receive(max(0.1, deadline - time.monotonic()))
        return next(m for m in self.control if m.get("type") == "hello")

    def until(self, needle: bytes, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.output:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{needle!r} not seen; got ...{bytes(self.output[-800:])!r}")
            self._receive(remaining)

    def run(self, command: str, marker: str, timeout: float = 60) -> str:
        """Type a command and an echo of a marker the command line itself cannot contain; return
        the output up to the marker."""
        self.output.clear()
        self.ws.send(f"{command}; echo {marker}-$((6*7))\r".encode())
        self.until(f"{marker}-42".encode(), timeout)
        return self.output.decode(errors="replace")
