"""Setup scripts: prepare the learner's cluster for a course and a lesson (what Killercoda calls
background scripts), once per sandbox, the course's own setup before the lesson's.

A setup runs when its lesson is opened (intros too) or when the lab starts for the course,
whichever comes first, off the request (courses.tasks.prepare_sandbox), as the cluster's
administrator (sandboxes.inspect.run_setup_script). Each run is claimed by a LessonSetup row,
which keeps its exit code and output; the page reads status() to say "Preparing your cluster
for this lesson…", or that it failed with its last lines, and may ask for a failed one again.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import redis
from celery import current_app
from django.db import IntegrityError, transaction
from django.utils import timezone

from courses.catalog import get_course
from courses.course_files import Course, Lesson
from courses.models import LessonSetup
from sandboxes import coordination, inspect, lifecycle, progress, tiers
from sandboxes.models import Sandbox

log = logging.getLogger(__name__)
SETUP_TIMEOUT = 120
# LessonSetup.lesson of the course's own setup: no lesson's slug starts with "_" (schema.SLUG_RE).
COURSE_LEVEL = "_course"
OUTPUT_KEPT = 4000
SHOWN_LINES = 12
# A claim without an exit code this long after it started belongs to a run that died (the
# worker was killed): the page says so and offers to run it again.
STALE_AFTER = timedelta(seconds=SETUP_TIMEOUT + 60)
# How long a "queued" marker keeps the page from sending a second task for the same setup.
QUEUED_SECONDS = 60
# One sandbox's setups run one at a time, in order; a second task waits for the first.
LOCK_SECONDS = 2 * SETUP_TIMEOUT + 60


@dataclass
class SetupStatus:
    """Where a lesson's setup stands on one sandbox, for the page."""

    state: str  # "none": nothing to run; "pending": queued or running; "done"; "failed"
    part: str = ""  # which failed: "course" (the course's own setup) or "lesson"
    exit_code: int | None = None
    tail: str = ""  # the last lines of its output
    queued: bool = False

    def as_dict(self) -> dict:
        return {"state": self.state, "part": self.part, "exit_code": self.exit_code,
                "tail": self.tail}


def parts(course: Course, lesson: Lesson | None) -> list[tuple[str, str]]:
    """(row slug, script) of what runs for this lesson, in order: the course's setup first."""
    found = []
    if course.setup.strip():
        found.append((COURSE_LEVEL, course.setup))
    if lesson is not None and lesson.setup.strip():
        found.append((lesson.slug, lesson.setup))
    return found


def _part_name(slug: str) -> str:
    return "course" if slug == COURSE_LEVEL else "lesson"


def _tail(output: str) -> str:
    return "\n".join(output.rstrip().splitlines()[-SHOWN_LINES:])


def status(sandbox: Sandbox | None, course: Course, lesson: Lesson | None) -> SetupStatus:
    """How far this lesson's setup (and the course's) got on sandbox."""
    wanted = parts(course, lesson)
    if sandbox is None or not wanted:
        return SetupStatus("none")
    rows = {row.lesson: row for row in LessonSetup.objects.filter(
        sandbox_id=sandbox.id, course=course.slug, lesson__in=[slug for slug, _ in wanted])}
    for slug, _ in wanted:
        row = rows.get(slug)
        if row is None:
            return SetupStatus("pending", queued=_is_queued(sandbox, course, lesson))
        if row.exit_code is None:
            if timezone.now() - row.started_at > STALE_AFTER:
                return SetupStatus("failed", _part_name(slug), None,
                                   "The setup stopped before it finished (the lab restarted "
                                   "while it ran).")
            return SetupStatus("pending", queued=True)
        if row.exit_code != 0:
            return SetupStatus("failed", _part_name(slug), row.exit_code, _tail(row.output))
    return SetupStatus("done")


def ensure_setup(sandbox: Sandbox | None, course: Course, lesson: Lesson | None) -> SetupStatus:
    """Put the course's assets in the learner's home, then run the course's setup and the
    lesson's against the sandbox, each unless it ran already; the lesson's waits for the
    course's and does not run after it failed. Runs here and now, for as long as the scripts
    take: callers are a Celery task and test_course."""
    if sandbox is None:
        return SetupStatus("none")
    assets = course.path / "assets"
    if assets.is_dir():
        inspect.copy_into_home(sandbox, assets)
    wanted = parts(course, lesson)
    if not wanted:
        return SetupStatus("none")
    lock = coordination.client().lock(f"{coordination._prefix()}:setup:{sandbox.id}",
                                      timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS)
    if not lock.acquire():
        log.warning("setup of %s on %s: another setup held the lock too long", course.slug,
                    sandbox.id)
        return status(sandbox, course, lesson)
    try:
        for slug, script in wanted:
            if not _run_once(sandbox, course.slug, slug, script):
                break
    finally:
        _release(lock)
    return status(sandbox, course, lesson)


def _run_once(sandbox: Sandbox, course_slug: str, slug: str, script: str) -> bool:
    """Run one setup unless its row exists; True when it has succeeded (now or before)."""
    existing = LessonSetup.objects.filter(sandbox_id=sandbox.id, course=course_slug,
                                          lesson=slug).first()
    if existing is not None:
        if existing.exit_code is None:
            # We hold the sandbox's setup lock, so nobody is running it: its run died.
            LessonSetup.objects.filter(pk=existing.pk).update(
                exit_code=-1, output=(existing.output + "\nThe setup stopped before it "
                                      "finished (the lab restarted while it ran).")[-OUTPUT_KEPT:])
            return False
        return existing.exit_code == 0
    try:
        with transaction.atomic():
            claim = LessonSetup.objects.create(sandbox_id=sandbox.id, course=course_slug,
                                               lesson=slug)
    except IntegrityError:
        return False  # claimed in the meantime (by a process without the lock): not ours to run
    try:
        code, out, err = inspect.run_setup_script(sandbox, script, SETUP_TIMEOUT)
    except inspect.ClusterUnreachable as exc:  # ScriptRefused too
        code, out, err = -1, "", str(exc)
    output = out + (("\n" if out and not out.endswith("\n") else "") + err if err else "")
    if code is None:
        output += f"\nThe setup did not finish within {SETUP_TIMEOUT} s, so it was stopped."
    exit_code = -1 if code is None else code
    LessonSetup.objects.filter(pk=claim.pk).update(exit_code=exit_code,
                                                   output=output[-OUTPUT_KEPT:])
    if exit_code != 0:
        log.warning("setup %s/%s failed on %s (exit %s): %s", course_slug, slug, sandbox.id,
                    exit_code, output[-500:])
    return exit_code == 0


def _release(lock) -> None:
    try:
        lock.release()
    except Exception:  # noqa: BLE001 - it expired: the next setup may already hold it
        log.warning("setup lock expired before it was released")


# Off the request: the task, its marker, and the page's "run it again" ----------------------

def _queued_key(sandbox: Sandbox, course: Course, lesson: Lesson | None) -> str:
    return (f"{coordination._prefix()}:setup-queued:{sandbox.id}:{course.slug}:"
            f"{lesson.slug if lesson else ''}")


def _is_queued(sandbox: Sandbox, course: Course, lesson: Lesson | None) -> bool:
    try:
        return bool(coordination.client().exists(_queued_key(sandbox, course, lesson)))
    except redis.RedisError:
        log.warning("setup status: Redis did not answer", exc_info=True)
        return False


def request_setup(sandbox: Sandbox | None, course: Course, lesson: Lesson | None) -> SetupStatus:
    """The setup's status, after sending the task that runs it (on commit) if it has not run and
    is not queued already."""
    found = status(sandbox, course, lesson)
    if found.state != "pending" or found.queued:
        return found
    # Set-if-absent: of two pages opened at once, one sends the task.
    try:
        first = coordination.client().set(_queued_key(sandbox, course, lesson), "1", nx=True,
                                          ex=QUEUED_SECONDS)
    except redis.RedisError:
        # The page still opens; it asks again when the learner's cluster next changes.
        log.warning("setup not sent: Redis did not answer", exc_info=True)
        return found
    if first:
        args = [str(sandbox.id), course.slug, lesson.slug if lesson else ""]
        queue = lifecycle.host_queue(sandbox.host) if sandbox.host else None
        transaction.on_commit(lambda: current_app.send_task(
            "courses.tasks.prepare_sandbox", args=args, **({"queue": queue} if queue else {})))
    found.queued = True
    return found


def run_again(sandbox: Sandbox | None, course: Course, lesson: Lesson | None) -> SetupStatus:
    """Forget this lesson's failed setups (the course's and its own) and run them again."""
    if sandbox is not None and status(sandbox, course, lesson).state == "failed":
        slugs = [slug for slug, _ in parts(course, lesson)]
        rows = LessonSetup.objects.filter(sandbox_id=sandbox.id, course=course.slug,
                                          lesson__in=slugs)
        rows.exclude(exit_code=0).exclude(exit_code__isnull=True).delete()
        rows.filter(exit_code__isnull=True, started_at__lt=timezone.now() - STALE_AFTER).delete()
    return request_setup(sandbox, course, lesson)


def lesson_for(sandbox: Sandbox, course: Course, lesson_slug: str) -> Lesson | None:
    """The lesson whose setup runs on this sandbox: none when the sandbox cannot serve it."""
    lesson = course.lesson(lesson_slug) if lesson_slug else None
    return lesson if lesson is not None and tiers.satisfies(sandbox.tier, lesson.tier) else None


def prepare(sandbox_id, course_slug: str, lesson_slug: str = "") -> str:
    """The task's work: run what the course and lesson need on the sandbox, if it is still
    usable, and tell the learner's open pages. Returns the setup's state."""
    sandbox = Sandbox.objects.filter(pk=sandbox_id).first()
    course = get_course(course_slug)
    if sandbox is None or course is None or not sandbox.is_usable:
        return "skipped"
    lesson = lesson_for(sandbox, course, lesson_slug)
    try:
        found = ensure_setup(sandbox, course, lesson)
    finally:
        coordination.client().delete(_queued_key(sandbox, course, lesson))
    # The lab panel re-reads the setup's status on this update, and live grading re-grades.
    sandbox.refresh_from_db()
    progress.publish(sandbox, transition=False)
    progress.poke_learner(sandbox.owner_id)
    return found.state


def on_sandbox_ready(sender, sandbox, **kwargs) -> None:
    """sandboxes.signals.sandbox_ready: the lab started for a course, so prepare the cluster
    for it (the course's setup, and that of the lesson it was started from)."""
    if not sandbox.owner_id or not sandbox.course:
        return
    course = get_course(sandbox.course)
    if course is None:
        return
    request_setup(sandbox, course, lesson_for(sandbox, course, sandbox.lesson))
