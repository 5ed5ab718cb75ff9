"""A WebSocket client for terminal tests, through the real ASGI application (Origin check,
session cookie, routing) via Channels' WebsocketCommunicator."""
from __future__ import annotations

import asyncio
import json
import time

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from bench.common import login_session_key
from lab.asgi import application

# The logged-in session the browser would hold (the benchmarks make theirs the same way).
session_cookie = database_sync_to_async(login_session_key)


class Term:
    def __init__(self, communicator):
        self.c = communicator
        self.output = bytearray()
        self.control: list[dict] = []
        self.unacked = 0

    @classmethod
    async def open(cls, user, sandbox_id, origin="http://127.0.0.1", query=""):
        headers = [(b"origin", origin.encode()), (b"host", b"127.0.0.1")]
        if user is not None:
            headers.append((b"cookie", f"sessionid={await session_cookie(user)}".encode()))
        path = f"/ws/sandboxes/{sandbox_id}/terminal/" + (f"?{query}" if query else "")
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, code = await communicator.connect(timeout=20)
        term = cls(communicator)
        term.connected, term.close_code = connected, code
        if connected:
            # A refusal is accepted, sends an error and closes (sandboxes/refusals.py); a shell
            # sends hello first. Either first message stays in term.control for the test.
            try:
                if (await term.next(20)).get("type") == "error":
                    await term.next(5)
            except ConnectionError:
                term.connected = False
        return term

    async def next(self, timeout=10.0):
        message = await self.c.receive_output(timeout)
        if message["type"] == "websocket.close":
            self.close_code = message.get("code")
            raise ConnectionError(f"closed with {self.close_code}")
        if message.get("bytes") is not None:
            self.output += message["bytes"]
            self.unacked += len(message["bytes"])
            return message["bytes"]
        data = json.loads(message["text"])
        self.control.append(data)
        return data

    async def control_message(self, kind, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.control:
                if message.get("type") == kind:
                    self.control.remove(message)
                    return message
            await self.next(max(0.05, deadline - time.monotonic()))
        raise TimeoutError(kind)

    async def until(self, needle: bytes, timeout=20.0, ack=True):
        deadline = time.monotonic() + timeout
        while needle not in self.output:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{needle!r} not seen; got ...{bytes(self.output[-500:])!r}")
            await self.next(remaining)
            if ack and self.unacked >= 65536:
                await self.ack()
        return bytes(self.output)

    async def ack(self):
        if self.unacked:
            await self.c.send_to(text_data=json.dumps({"type": "ack", "bytes": self.unacked}))
            self.unacked = 0

    async def type(self, text: str):
        await self.c.send_to(bytes_data=text.encode())

    async def send_json(self, data):
        await self.c.send_to(text_data=json.dumps(data))

    async def close(self):
        await self.c.disconnect()

    async def run(self, command: str, marker: str, timeout=20.0) -> str:
        """Type a command followed by an echo of marker, and return the output up to it."""
        self.output.clear()
        await self.type(f"{command}; echo {marker}-$((6*7))\r")
        await self.until(f"{marker}-42".encode(), timeout)
        return self.output.decode(errors="replace")


async def settle(seconds=0.2):
    await asyncio.sleep(seconds)
