"""Celery tasks of the courses app: thin wrappers that take ids and call courses' own modules."""
from __future__ import annotations

from celery import shared_task

from courses import setup


@shared_task(acks_late=True)
def prepare_sandbox(sandbox_id: str, course_slug: str, lesson_slug: str = "") -> str:
    """Run the course's setup and the lesson's on the sandbox, once each (courses.setup)."""
    return setup.prepare(sandbox_id, course_slug, lesson_slug)
