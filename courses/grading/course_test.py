"""`test_course`: proof that every exercise of a course can be solved and cannot pass unsolved.

On a fresh sandbox of the tier, every exercise that tier can serve (a full cluster serves the api
exercises too, so `--tier full` runs the whole course with real pods): (0) the course's setup
runs first, as it does for a learner; (1) no check of any exercise may pass before anything else
was done (a check that does is vacuous); (2) lesson by lesson, in course order, the lesson's
setup runs (intros too), then each of its exercises must not pass before its solution, and must
pass (within a deadline, as the live panel would show) after the solution's commands were typed
into a real terminal of the sandbox and its quiz answers given. A setup that fails ends the run:
what comes after it was written for a cluster it did not prepare. (corpus_test runs this for
every course, or Killercoda scenario, of a folder.)
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model

from courses import setup as lesson_setup
from courses.course_files import Course, Exercise
from courses.fieldpath import resolve
from courses.grading.checks import Context
from courses.grading.engine import grade_exercise
from courses.grading.solutions import split_commands
from courses.models import ExerciseProgress, QuizAnswer
from sandboxes import lifecycle, tiers
from sandboxes.backends import get_backend
from sandboxes.models import CommandRecord, Sandbox, State

TESTER = "course-tester"
PASS_DEADLINE = 120
COMMAND_DEADLINE = 180


@dataclass
class ExerciseReport:
    slug: str
    lesson: str
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    seconds_to_pass: float | None = None
    fails_before: bool | None = None  # None: not reached (an earlier setup failed)
    passes_after: bool | None = None

    def fail(self, message: str) -> None:
        self.ok = False
        self.problems.append(message)


@dataclass
class SetupReport:
    part: str  # "course", or the lesson's slug
    ok: bool
    exit_code: int | None = None
    tail: str = ""  # the last lines of its output, when it failed


@dataclass
class CourseReport:
    course: str
    tier: str
    exercises: list[ExerciseReport] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    setups: list[SetupReport] = field(default_factory=list)
    sandbox_seconds: float = 0.0
    ran_on_cluster: bool = False

    @property
    def setup_ok(self) -> bool:
        return all(s.ok for s in self.setups)

    @property
    def ok(self) -> bool:
        return self.setup_ok and all(e.ok for e in self.exercises)

    def as_dict(self) -> dict:
        return {"course": self.course, "tier": self.tier, "ok": self.ok,
                "sandbox_seconds": round(self.sandbox_seconds, 2), "skipped": self.skipped,
                "setups": [vars(s) for s in self.setups],
                "exercises": [vars(e) for e in self.exercises]}


def tester_user():
    user, created = get_user_model().objects.get_or_create(
        username=TESTER, defaults={"email": "course-tester@localhost"})
    if created:
        user.set_unusable_password()
        user.save()
    return user


def fresh_sandbox(user, tier: str) -> Sandbox:
    """A brand-new cluster for the test, created here and now (no worker needed)."""
    for old in Sandbox.objects.active().owned_by(user):
        lifecycle.stop_now(old)
    sandbox = Sandbox.objects.create(owner=user, tier=tier, state=State.REQUESTED,
                                     backend=get_backend(tier).name)
    outcome = lifecycle.create(sandbox.id)
    sandbox.refresh_from_db()
    if outcome != "ready" or sandbox.state != State.READY:
        raise RuntimeError(f"could not create a {tier} sandbox: {outcome} {sandbox.failure}")
    return sandbox


def has_setup(course: Course) -> bool:
    return bool(course.setup.strip()) or any(lesson.setup.strip() for lesson in course.lessons)


def run(course: Course, tier: str, log=print) -> CourseReport:
    report = CourseReport(course=course.slug, tier=tier)
    exercises = [ex for ex in course.exercises() if tiers.satisfies(tier, ex.tier)]
    report.skipped = [ex.slug for ex in course.exercises() if not tiers.satisfies(tier, ex.tier)]
    if not exercises and not has_setup(course):
        return report  # nothing would run on a cluster
    user = tester_user()
    QuizAnswer.objects.filter(user=user, course=course.slug).delete()
    ExerciseProgress.objects.filter(user=user, course=course.slug).delete()
    started = time.monotonic()
    sandbox = fresh_sandbox(user, tier)
    report.sandbox_seconds = time.monotonic() - started
    report.ran_on_cluster = True
    log(f"fresh {tier} sandbox {sandbox.cluster} ready in {report.sandbox_seconds:.1f}s")
    try:
        reports = {ex.slug: ExerciseReport(ex.slug, ex.lesson_slug) for ex in exercises}
        report.exercises = list(reports.values())
        # 0. The course's own setup, as for a learner, before anything else.
        if not _prepare(sandbox, course, None, report, log):
            for exercise_report in report.exercises:
                exercise_report.fail("not reached: the course's setup failed")
            return report
        # 1. Nothing may pass on a cluster nobody has touched.
        ctx = Context(sandbox=sandbox)
        for exercise in exercises:
            result = grade_exercise(exercise, sandbox, {}, ctx)
            for check in result.checks:
                if check.passed:
                    reports[exercise.slug].fail(
                        f"check '{check.id}' passes on a fresh sandbox (vacuous): {check.message}")
        # 2. Lesson by lesson: its setup, then each exercise fails before its solution and
        # passes after it.
        asyncio.run(_solve_all(course, exercises, sandbox, user, reports, report, log))
    finally:
        lifecycle.stop_now(sandbox)
    return report


def _prepare(sandbox, course: Course, lesson, report: CourseReport, log) -> bool:
    """Run the course's setup (lesson None) or a lesson's, and note it; False if it failed."""
    script = lesson.setup if lesson is not None else course.setup
    if not script.strip():
        return True
    part = lesson.slug if lesson is not None else "course"
    found = lesson_setup.ensure_setup(sandbox, course, lesson)
    ok = found.state != "failed"
    report.setups.append(SetupReport(part, ok, found.exit_code if not ok else 0,
                                     found.tail if not ok else ""))
    log(f"{'ok  ' if ok else 'FAIL'} setup of {part}"
        + ("" if ok else f" (exit {found.exit_code}): {found.tail[-300:]}"))
    return ok


async def _solve_all(course, exercises, sandbox, user, reports, report, log) -> None:
    from sandboxes.terminal import registry

    session = await registry.get_or_start(sandbox)
    output = bytearray()

    async def collect(chunk: bytes):
        output.extend(chunk)

    async def ended(code):
        return None

    # A read-only viewer: it takes the output without holding the shell back.
    viewer = session.attach(collect, ended, False, None)
    try:
        for lesson in course.lessons:
            # Every lesson's setup runs as the learner opens it, intros included.
            if not await sync_to_async(_prepare)(sandbox, course, lesson, report, log):
                for exercise in exercises:
                    if reports[exercise.slug].fails_before is None:
                        reports[exercise.slug].fail(f"not reached: the setup of {lesson.slug} "
                                                    "failed")
                return
            for exercise in [ex for ex in exercises if ex.lesson_slug == lesson.slug]:
                await _solve(course, exercise, sandbox, user, reports[exercise.slug], session,
                             output, log)
    finally:
        session.detach(viewer)
        await session.close("course test finished")


async def _solve(course, exercise, sandbox, user, report: ExerciseReport, session, output,
                 log) -> None:
    before = await sync_to_async(_grade)(exercise, sandbox, user, course)
    report.fails_before = not before.passed
    if before.passed:
        report.fail("passes before its solution")
    commands = split_commands(exercise.solution.get("commands") or "")
    if not commands and not exercise.solution.get("answers"):
        # Nothing to type and nothing to answer (an imported step without a solution): say so
        # rather than wait to see it not pass.
        report.passes_after = False
        report.fail("has no solution to run (no commands and no answers)")
        log(f"FAIL {exercise.lesson_slug}/{exercise.slug}: {report.problems[-1]}")
        return
    for command in commands:
        ok = await _type(session, sandbox, command, output)
        if not ok:
            report.fail(f"the solution command did not finish: {command.splitlines()[0]}")
    await sync_to_async(_answer)(exercise, sandbox, user, course)
    began = time.monotonic()
    after = before
    while time.monotonic() - began < PASS_DEADLINE:
        after = await sync_to_async(_grade)(exercise, sandbox, user, course)
        if after.passed:
            report.seconds_to_pass = time.monotonic() - began
            break
        await asyncio.sleep(0.5)
    report.passes_after = after.passed
    if not after.passed:
        failing = [f"{c.id}: {c.message}" for c in after.checks if not c.passed]
        report.fail(f"does not pass after its solution: {'; '.join(failing)}")
    mark = "ok  " if report.ok else "FAIL"
    log(f"{mark} {exercise.lesson_slug}/{exercise.slug}"
        + (f" (passes {report.seconds_to_pass:.1f}s after its solution)" if report.ok else
           ": " + "; ".join(report.problems)))


async def _type(session, sandbox, command: str, output: bytearray) -> bool:
    """Type one command as a learner would, and wait until the shell reports it finished."""
    count = await sync_to_async(CommandRecord.objects.filter(sandbox=sandbox).count)()
    session.write(command.replace("\n", "\r").encode() + b"\r")
    deadline = time.monotonic() + COMMAND_DEADLINE
    while time.monotonic() < deadline:
        if await sync_to_async(CommandRecord.objects.filter(sandbox=sandbox).count)() > count:
            return True
        await asyncio.sleep(0.1)
    return False


def _grade(exercise: Exercise, sandbox, user, course):
    from courses.grading.engine import answers_for
    return grade_exercise(exercise, sandbox, answers_for(user, course.slug, exercise.slug), fresh=True)


def _answer(exercise: Exercise, sandbox, user, course) -> None:
    """Give the solution's quiz answers; a live answer is read from the cluster, as a learner
    copies it from their screen."""
    answers = exercise.solution.get("answers") or {}
    ctx = Context(sandbox=sandbox)
    for check in exercise.checks:
        if check.kind != "quiz":
            continue
        if "answer_from" in check.spec:
            ref = check.spec["answer_from"]["object"]
            obj = ctx.object(ref) if ref.get("name") else next(iter(ctx.objects(ref)), None)
            value = resolve(obj, check.spec["answer_from"]["field"]) if obj else None
        else:
            value = answers.get(check.id)
        QuizAnswer.objects.update_or_create(user=user, course=course.slug, exercise=exercise.slug,
                                            check_id=check.id, defaults={"answer": value})

