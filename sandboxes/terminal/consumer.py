"""The terminal WebSocket, /ws/sandboxes/<id>/terminal/ (protocol: docs/terminal-protocol.md).

Binary frames carry raw terminal bytes both ways. Text frames carry JSON control messages:
from the client resize, ack and ping; from the server hello, exit, pong and error. Only the
sandbox's owner may type; instructors watch read-only; everyone else is refused.
"""
from __future__ import annotations

import json
import logging
import uuid
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from sandboxes.access import can_drive, can_watch
from sandboxes.models import Sandbox
from sandboxes.progress import group_name
from sandboxes.refusals import (
    CLOSE_FORBIDDEN,
    CLOSE_NOT_FOUND,
    CLOSE_NOT_RUNNING,
    CLOSE_PROTOCOL,
    CLOSE_TOO_MANY,
    CLOSE_UNAUTHENTICATED,
    refuse,
)
from sandboxes.terminal import registry

log = logging.getLogger(__name__)

MAX_INPUT_FRAME = 64 * 1024
MAX_CONTROL_FRAME = 4096
MAX_BAD_MESSAGES = 20
MAX_COLS, MAX_ROWS = 1000, 500


class TerminalConsumer(AsyncWebsocketConsumer):
    session = None
    viewer = None
    group = None

    async def connect(self):
        self.bad_messages = 0
        self.told_read_only = False
        user = self.scope.get("user")
        # Refusals are accepted first and closed with a code and a message the page shows.
        if user is None or not user.is_authenticated:
            await refuse(self, CLOSE_UNAUTHENTICATED)
            return
        try:
            sandbox_id = uuid.UUID(self.scope["url_route"]["kwargs"]["sandbox_id"])
        except ValueError:
            await refuse(self, CLOSE_NOT_FOUND)
            return
        sandbox, drive, watch = await self._load(user, sandbox_id)
        if sandbox is None or not watch:
            await refuse(self, CLOSE_FORBIDDEN)
            return
        query = parse_qs(self.scope.get("query_string", b"").decode())
        cols = _bounded(query.get("cols", ["80"])[0], 1, MAX_COLS, 80)
        rows = _bounded(query.get("rows", ["24"])[0], 1, MAX_ROWS, 24)
        offset = _bounded(query.get("offset", [""])[0], 0, 2 ** 62, None)

        await self.accept()
        if not sandbox.is_usable:
            await self._refuse(CLOSE_NOT_RUNNING, "Your cluster is not running: start your lab first.")
            return
        if drive and registry.drivers_of(user.pk) >= settings.TERMINAL_MAX_PER_LEARNER:
            await self._refuse(CLOSE_TOO_MANY, f"You already have {settings.TERMINAL_MAX_PER_LEARNER} "
                                               "terminals open. Close one and reload.")
            return
        if drive:
            try:
                self.session = await registry.get_or_start(sandbox, cols, rows)
            except Exception as exc:  # noqa: BLE001 - tell the learner, log the details
                log.exception("could not start a terminal for %s", sandbox_id)
                await self._refuse(CLOSE_NOT_RUNNING, f"The terminal could not start: {exc}")
                return
        else:
            self.session = registry.get(sandbox_id)
            if self.session is None:
                await self._refuse(CLOSE_NOT_RUNNING, "This learner has no terminal open right now.")
                return
        self.drive = drive
        start = self.session.ring.start if offset is None else offset
        start = min(max(start, self.session.ring.start), self.session.ring.end)
        await self._send_json({"type": "hello", "session": self.session.id, "offset": start,
                               "readonly": not drive, "cols": self.session.size[0],
                               "rows": self.session.size[1]})
        self.viewer = self.session.attach(self._send_output, self._send_exit, drive, user.pk, start)
        self.group = group_name(sandbox_id)
        await self.channel_layer.group_add(self.group, self.channel_name)

    async def disconnect(self, code):
        if self.session is not None and self.viewer is not None:
            self.session.detach(self.viewer)
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        if self.session is None or self.viewer is None:
            return
        if bytes_data is not None:
            await self._input(bytes_data)
        elif text_data is not None:
            await self._control(text_data)

    async def _input(self, data: bytes):
        if not self.drive:
            if not self.told_read_only:
                self.told_read_only = True
                await self._error("This terminal is read-only for you.")
            return
        if len(data) > MAX_INPUT_FRAME:
            await self._bad(f"An input frame may hold at most {MAX_INPUT_FRAME} bytes.")
            return
        if not self.session.write(data):
            await self._error("The shell is not reading its input; some was dropped.")

    async def _control(self, text: str):
        if len(text) > MAX_CONTROL_FRAME:
            await self._bad("A control message may be at most 4096 characters.")
            return
        try:
            message = json.loads(text)
        except ValueError:
            await self._bad("Control messages are JSON.")
            return
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "ack":
            count = message.get("bytes")
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                await self._bad("ack needs a whole number of bytes.")
                return
            self.session.ack(self.viewer, count)
        elif kind == "resize":
            cols, rows = message.get("cols"), message.get("rows")
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in (cols, rows)) \
                    or not (1 <= cols <= MAX_COLS and 1 <= rows <= MAX_ROWS):
                await self._bad(f"resize needs cols 1-{MAX_COLS} and rows 1-{MAX_ROWS}.")
                return
            if self.drive:
                self.session.resize(cols, rows)
        elif kind == "ping":
            await self._send_json({"type": "pong"})
        else:
            await self._bad(f"Unknown control message type {kind!r}.")

    async def _bad(self, message: str):
        self.bad_messages += 1
        await self._error(message)
        if self.bad_messages > MAX_BAD_MESSAGES:
            await self.close(code=CLOSE_PROTOCOL)

    async def _error(self, message: str):
        await self._send_json({"type": "error", "message": message})

    async def _refuse(self, code: int, message: str):
        await refuse(self, code, message, accepted=True)

    async def _send_json(self, data: dict):
        await self.send(text_data=json.dumps(data))

    async def _send_output(self, chunk: bytes):
        await self.send(bytes_data=chunk)

    async def _send_exit(self, code):
        await self._send_json({"type": "exit", "code": code})
        await self.close(code=1000)

    async def sandbox_update(self, event):
        """The sandbox changed state: a stopped cluster ends its terminal."""
        state = event["sandbox"]["state"]
        if state in ("deleting", "deleted", "failed") and self.session is not None:
            await registry.close_for(event["sandbox"]["id"])

    @database_sync_to_async
    def _load(self, user, sandbox_id):
        sandbox = Sandbox.objects.filter(pk=sandbox_id).first()
        if sandbox is None:
            return None, False, False
        return sandbox, can_drive(user, sandbox), can_watch(user, sandbox)


def _bounded(raw: str, low: int, high: int, default):
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    return min(max(value, low), high)
