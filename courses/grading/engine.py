"""Grading passes: evaluate an exercise's (or a lesson's) checks against the learner's sandbox,
and remember the outcome in their progress."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from courses.course_files import Course, Exercise, Lesson
from courses.grading.checks import Context, evaluate
from courses.grading.results import ExerciseResult
from courses.models import ExerciseProgress, LessonProgress, QuizAnswer
from sandboxes import tiers
from sandboxes.models import Sandbox
from sandboxes.progress import poke_learner


def answers_for(user, course: str, exercise: str) -> dict:
    if user is None or not user.is_authenticated:
        return {}
    return dict(QuizAnswer.objects.filter(user=user, course=course, exercise=exercise)
                .values_list("check_id", "answer"))


def sandbox_for(user, tier: str) -> Sandbox | None:
    """The learner's usable sandbox that can serve this tier (the one their terminal is bound
    to): an api exercise runs on an API or a full cluster, a full one only on a full cluster."""
    if user is None or not user.is_authenticated:
        return None
    from sandboxes.models import USABLE_STATES
    return tiers.closest(Sandbox.objects.filter(owner=user, state__in=USABLE_STATES), tier)


def grade_exercise(exercise: Exercise, sandbox: Sandbox | None, answers: dict,
                   ctx: Context | None = None, fresh: bool = False) -> ExerciseResult:
    ctx = ctx or Context(sandbox=sandbox, fresh=fresh)
    ctx.answers = answers
    if sandbox is None and exercise.tier != tiers.DEFAULT:
        ctx.no_cluster = (f"This is checked on a {tiers.label(exercise.tier)}: "
                          "start one, or switch to one, in the lab panel.")
    results = [evaluate(check, ctx) for check in exercise.checks]
    return ExerciseResult(slug=exercise.slug, lesson=exercise.lesson_slug,
                          passed=bool(results) and all(r.passed for r in results), checks=results)


def grade_lesson(course: Course, lesson: Lesson, user, sandbox: Sandbox | None = None,
                 record: bool = True, live: bool = False) -> list[ExerciseResult]:
    """Every exercise of the lesson, in one pass (objects are fetched once per cluster for all
    checks). Each exercise is graded on the cluster that can serve its tier; given `sandbox`, on
    that one where it can. `live`: for the open page, where a slow script check is reported as
    still checking rather than waited for (checks.Context.live)."""
    contexts: dict = {}
    results = []
    for exercise in lesson.exercises:
        if sandbox is not None:
            target = sandbox if tiers.satisfies(sandbox.tier, exercise.tier) else None
        else:
            target = sandbox_for(user, exercise.tier)
        key = target.pk if target is not None else ("no cluster", exercise.tier)
        ctx = contexts.setdefault(key, Context(sandbox=target, live=live))
        result = grade_exercise(exercise, target, answers_for(user, course.slug, exercise.slug), ctx)
        results.append(result)
        if record and user is not None and user.is_authenticated:
            remember(user, course, lesson, result)
    return results


def remember(user, course: Course, lesson: Lesson, result: ExerciseResult,
             attempt: bool = False) -> ExerciseProgress:
    now = timezone.now()
    with transaction.atomic():
        progress, _ = ExerciseProgress.objects.get_or_create(
            user=user, course=course.slug, exercise=result.slug, defaults={"lesson": lesson.slug})
        fields = {"passed": result.passed, "last_checked_at": now, "last_result": result.as_dict()}
        if attempt:
            fields["attempts"] = progress.attempts + 1
        ExerciseProgress.objects.filter(pk=progress.pk).update(**fields)
        if result.passed:
            # Only the first pass sets the time; later passes leave it alone.
            ExerciseProgress.objects.filter(pk=progress.pk, first_passed_at__isnull=True).update(
                first_passed_at=now)
        progress.refresh_from_db()
    required = required_exercises(lesson)
    if result.passed and required and all(
            ExerciseProgress.objects.filter(user=user, course=course.slug, exercise=ex.slug,
                                            first_passed_at__isnull=False).exists()
            for ex in required):
        LessonProgress.complete(user, course.slug, lesson.slug)
    # Pages that follow this learner (their instructor's class dashboard) update now.
    poke_learner(user.pk)
    return progress


def required_exercises(lesson: Lesson) -> list[Exercise]:
    """The exercises a learner must do to complete the lesson: those this lab can run (a lab
    without full clusters cannot hold its learners to a full-tier exercise)."""
    return [ex for ex in lesson.exercises if tiers.offered(ex.tier)]


def passed_exercises(user, course: str) -> set[str]:
    if not user.is_authenticated:
        return set()
    return set(ExerciseProgress.objects.filter(user=user, course=course, first_passed_at__isnull=False)
               .values_list("exercise", flat=True))
