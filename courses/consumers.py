"""Live grading: while a lesson page is open, its exercises are re-graded every second, and at
once when the learner runs a command, and the page is told only when something changed. A
script check that runs long goes on in the background (grading.script_runs) and shows as still
checking meanwhile, so it never holds the loop or the lesson's other checks."""
from __future__ import annotations

import asyncio
import logging

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from courses.catalog import get_course
from courses.exercise_views import lesson_status_payload
from courses.grading.engine import grade_lesson, remember
from sandboxes.progress import learner_group
from sandboxes.refusals import CLOSE_NOT_FOUND, CLOSE_UNAUTHENTICATED, refuse

log = logging.getLogger(__name__)


class GradingConsumer(AsyncJsonWebsocketConsumer):
    task = None
    group = None

    async def connect(self):
        user = self.scope.get("user")
        kwargs = self.scope["url_route"]["kwargs"]
        if user is None or not user.is_authenticated:
            await refuse(self, CLOSE_UNAUTHENTICATED)
            return
        course = await sync_to_async(get_course)(kwargs["course_slug"])
        lesson = course.lesson(kwargs["lesson_slug"]) if course else None
        if lesson is None or not lesson.exercises:
            # Courses are public: saying that this lesson has nothing to grade leaks nothing.
            await refuse(self, CLOSE_NOT_FOUND, "This lesson has no exercises to check (any more). "
                                                "Reload the page.")
            return
        self.user, self.course, self.lesson = user, course, lesson
        self.poke = asyncio.Event()
        self.group = learner_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        self.task = asyncio.get_running_loop().create_task(self._loop())

    async def disconnect(self, code):
        if self.task:
            self.task.cancel()
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "refresh":
            self.poke.set()

    async def learner_poke(self, event):
        """The learner ran a command or their sandbox changed: grade now."""
        self.poke.set()

    async def _loop(self):
        last = None
        passed_before: dict[str, bool] = {}
        while True:
            try:
                payload, passed_now = await sync_to_async(self._grade, thread_sensitive=False)()
            except Exception:  # noqa: BLE001 - a broken check must never end the live loop
                log.exception("live grading failed for %s", self.lesson.slug)
                payload, passed_now = {"type": "status", "error": "Checks could not run right now."}, {}
            if payload != last:
                last = payload
                await self.send_json(payload)
                changed = {slug for slug, ok in passed_now.items() if passed_before.get(slug) != ok}
                if changed:
                    await sync_to_async(self._remember, thread_sensitive=False)(payload, changed)
                passed_before = passed_now
            interval = settings.GRADING_INTERVAL if payload.get("has_sandbox") else 3 * settings.GRADING_INTERVAL
            try:
                await asyncio.wait_for(self.poke.wait(), timeout=interval)
            except TimeoutError:
                pass
            self.poke.clear()

    def _grade(self):
        course = get_course(self.course.slug) or self.course  # follow edits of the lesson file
        lesson = course.lesson(self.lesson.slug) or self.lesson
        # The lesson's setup is not run here: the lesson page sent it to the worker (setup.py).
        results = grade_lesson(course, lesson, self.user, record=False, live=True)
        self._results = results
        return (lesson_status_payload(course, lesson, self.user, results),
                {r.slug: r.passed for r in results})

    def _remember(self, payload, changed):
        for result in self._results:
            if result.slug in changed:
                remember(self.user, self.course, self.lesson, result)
