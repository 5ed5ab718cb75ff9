"""The class dashboard, live: the page is told the moment one of the class's learners makes
progress or their lab changes, and then fetches matrix.json (which stays the one source of what
it shows). The socket carries no learner data itself."""
from __future__ import annotations

import asyncio
import logging

from asgiref.sync import async_to_sync, sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer

from sandboxes.progress import learner_group
from sandboxes.refusals import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, refuse

# Many learners ticking at once become one "changed" per this many seconds.
COALESCE_SECONDS = 0.5
log = logging.getLogger(__name__)


def class_group(cohort_id) -> str:
    return f"class.{cohort_id}"


def announce_member(cohort_id, user_id) -> None:
    """A learner joined the class: open dashboards start following them. Best effort (the
    dashboard also polls)."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(class_group(cohort_id),
                                        {"type": "class.joined", "user_id": user_id})
    except Exception:  # noqa: BLE001 - joining must never fail because a dashboard is not told
        log.warning("could not announce a new member of class %s", cohort_id, exc_info=True)


class ClassDashboardConsumer(AsyncJsonWebsocketConsumer):

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await refuse(self, CLOSE_UNAUTHENTICATED)
            return
        members = await sync_to_async(self._members)(user, self.scope["url_route"]["kwargs"]["cohort_id"])
        if members is None:
            # The same answer for "no such class" and "not your class": nothing leaks.
            await refuse(self, CLOSE_FORBIDDEN)
            return
        cohort_id = self.scope["url_route"]["kwargs"]["cohort_id"]
        self.groups_joined = [class_group(cohort_id), *(learner_group(pk) for pk in members)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self.pending = None
        await self.accept()

    @staticmethod
    def _members(user, cohort_id) -> list[int] | None:
        """The class's learners, if this user may watch the class (else None)."""
        from classes.policy import visible_cohorts
        from lab.roles import is_instructor

        if not is_instructor(user):
            return None
        cohort = visible_cohorts(user).filter(pk=cohort_id).first()
        if cohort is None:
            return None
        return list(cohort.memberships.values_list("user_id", flat=True))

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        if getattr(self, "pending", None):
            self.pending.cancel()

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def class_joined(self, event):
        group = learner_group(int(event["user_id"]))
        if group not in self.groups_joined:
            self.groups_joined.append(group)
            await self.channel_layer.group_add(group, self.channel_name)
        await self.learner_poke(event)

    async def learner_poke(self, event):
        """A learner of the class progressed, ran a command or saw their lab change."""
        if self.pending is None or self.pending.done():
            self.pending = asyncio.get_running_loop().create_task(self._changed())

    async def _changed(self):
        await asyncio.sleep(COALESCE_SECONDS)
        await self.send_json({"type": "changed"})
