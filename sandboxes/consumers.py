"""Live progress of a sandbox, pushed to the learner's page (and an instructor's)."""
from __future__ import annotations

import uuid

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from sandboxes.access import can_watch
from sandboxes.models import Sandbox
from sandboxes.progress import group_name, snapshot
from sandboxes.refusals import CLOSE_FORBIDDEN, CLOSE_NOT_FOUND, CLOSE_UNAUTHENTICATED, refuse


class SandboxEventsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        self.group = None
        if user is None or not user.is_authenticated:
            await refuse(self, CLOSE_UNAUTHENTICATED)
            return
        try:
            sandbox_id = uuid.UUID(self.scope["url_route"]["kwargs"]["sandbox_id"])
        except ValueError:
            await refuse(self, CLOSE_NOT_FOUND)
            return
        state = await self._visible_snapshot(user, sandbox_id)
        if state is None:
            # The same answer for "does not exist" and "not yours": nothing leaks.
            await refuse(self, CLOSE_FORBIDDEN)
            return
        self.group = group_name(sandbox_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "sandbox", "sandbox": state})

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        # The page only listens; a ping gets a pong so it can tell the socket is alive.
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def sandbox_update(self, event):
        await self.send_json({"type": "sandbox", "sandbox": event["sandbox"]})

    @database_sync_to_async
    def _visible_snapshot(self, user, sandbox_id):
        sandbox = Sandbox.objects.filter(pk=sandbox_id).first()
        if sandbox is None or not can_watch(user, sandbox):
            return None
        return snapshot(sandbox)
