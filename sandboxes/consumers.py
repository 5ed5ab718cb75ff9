"""Live progress of a sandbox, pushed to the learner's page (and an instructor's)."""
from __future__ import annotations

import uuid

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from sandboxes.access import can_watch
from sandboxes.models import Sandbox
from sandboxes.progress import group_name, snapshot


class SandboxEventsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        self.group = None
        try:
            sandbox_id = uuid.UUID(self.scope["url_route"]["kwargs"]["sandbox_id"])
        except ValueError:
            await self.close(code=4404)
            return
        state = await self._visible_snapshot(user, sandbox_id)
        if state is None:
            # The same answer for "does not exist" and "not yours": nothing leaks.
            await self.close(code=4403)
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
        if user is None or not user.is_authenticated:
            return None
        sandbox = Sandbox.objects.filter(pk=sandbox_id).first()
        if sandbox is None or not can_watch(user, sandbox):
            return None
        return snapshot(sandbox)
