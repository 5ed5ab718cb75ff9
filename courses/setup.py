"""Lesson setup scripts: prepare the learner's cluster for a lesson (what Killercoda calls a
background script), once per sandbox, before the lesson's checks are read."""
from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from courses.course_files import Course, Lesson
from courses.models import LessonSetup
from sandboxes import inspect

log = logging.getLogger(__name__)
SETUP_TIMEOUT = 120


def ensure_setup(sandbox, course: Course, lesson: Lesson) -> LessonSetup | None:
    """Put the course's assets in the learner's home, and run the lesson's setup script against
    the sandbox unless it already ran (or is running: the row is the claim, so two pages open at
    once run it once)."""
    if sandbox is None:
        return None
    assets = course.path / "assets"
    if assets.is_dir():
        inspect.copy_into_home(sandbox, assets)
    if not lesson.setup.strip():
        return None
    try:
        with transaction.atomic():
            claim = LessonSetup.objects.create(sandbox_id=sandbox.id, course=course.slug,
                                               lesson=lesson.slug)
    except IntegrityError:
        return LessonSetup.objects.filter(sandbox_id=sandbox.id, course=course.slug,
                                          lesson=lesson.slug).first()
    code, out, err = inspect.run_script(sandbox, lesson.setup, SETUP_TIMEOUT)
    LessonSetup.objects.filter(pk=claim.pk).update(exit_code=-1 if code is None else code,
                                                   output=(out + err)[-4000:])
    if code != 0:
        log.warning("setup of %s/%s failed on %s (exit %s): %s", course.slug, lesson.slug,
                    sandbox.id, code, (err or out)[-500:])
    claim.refresh_from_db()
    return claim
