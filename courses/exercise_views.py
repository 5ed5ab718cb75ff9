"""Endpoints of the exercise panel: Check, answer a quiz, reveal the solution, and the lesson's
status as JSON (the polling fallback of the live grading socket)."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from courses.catalog import get_course
from courses.grading.checks import quiz_type
from courses.grading.engine import answers_for, grade_exercise, grade_lesson, remember, sandbox_for
from courses.models import ExerciseProgress, QuizAnswer
from courses.rendering import render_markdown
from sandboxes import tiers

MAX_ANSWER_CHARS = 500


def _lesson_and_exercise(course_slug, lesson_slug, exercise_slug=None):
    course = get_course(course_slug)
    lesson = course.lesson(lesson_slug) if course else None
    if lesson is None:
        raise Http404("No such lesson")
    if exercise_slug is None:
        return course, lesson, None
    exercise = next((e for e in lesson.exercises if e.slug == exercise_slug), None)
    if exercise is None:
        raise Http404("No such exercise")
    return course, lesson, exercise


def lesson_status_payload(course, lesson, user, results) -> dict:
    done = set(ExerciseProgress.objects.filter(user=user, course=course.slug,
                                               first_passed_at__isnull=False)
               .values_list("exercise", flat=True))
    tier_of = {ex.slug: ex.tier for ex in lesson.exercises}
    return {
        "type": "status",
        "has_sandbox": sandbox_for(user, lesson.tier) is not None,
        "exercises": [{**r.as_dict(), "done": r.passed or r.slug in done,
                       **tier_status(user, tier_of.get(r.slug, lesson.tier))} for r in results],
    }


def tier_status(user, tier: str) -> dict:
    """What the panel says about the cluster an exercise needs: its tier, whether this lab
    offers it at all, and whether the learner has a cluster that can run it now."""
    return {"tier": tier, "offered": tiers.offered(tier),
            "runnable": sandbox_for(user, tier) is not None}


@login_required
@require_GET
def lesson_status(request, course_slug, lesson_slug):
    course, lesson, _ = _lesson_and_exercise(course_slug, lesson_slug)
    results = grade_lesson(course, lesson, request.user, live=True)
    return JsonResponse(lesson_status_payload(course, lesson, request.user, results))


@login_required
@require_POST
def check(request, course_slug, lesson_slug, exercise_slug):
    course, lesson, exercise = _lesson_and_exercise(course_slug, lesson_slug, exercise_slug)
    result = grade_exercise(exercise, sandbox_for(request.user, exercise.tier),
                            answers_for(request.user, course.slug, exercise.slug), fresh=True)
    progress = remember(request.user, course, lesson, result, attempt=True)
    return JsonResponse({**result.as_dict(), "done": progress.first_passed_at is not None,
                         "attempts": progress.attempts})


@login_required
@require_POST
def answer(request, course_slug, lesson_slug, exercise_slug):
    course, lesson, exercise = _lesson_and_exercise(course_slug, lesson_slug, exercise_slug)
    check_id = request.POST.get("check", "")
    quiz = next((c for c in exercise.checks if c.id == check_id and c.kind == "quiz"), None)
    if quiz is None:
        return JsonResponse({"error": "There is no such question in this exercise."}, status=400)
    kind = quiz_type(quiz.spec)
    if kind == "multiple":
        value = request.POST.getlist("answer")
        if not value:
            return JsonResponse({"error": "Pick at least one option."}, status=400)
    else:
        value = request.POST.get("answer", "").strip()
        if not value:
            return JsonResponse({"error": "Write or pick an answer first."}, status=400)
        if len(value) > MAX_ANSWER_CHARS:
            return JsonResponse({"error": f"An answer may be at most {MAX_ANSWER_CHARS} "
                                          "characters."}, status=400)
    choices = [str(c) for c in quiz.spec.get("choices") or []]
    if kind != "text" and any(v not in choices for v in (value if isinstance(value, list) else [value])):
        return JsonResponse({"error": "Pick one of the options shown."}, status=400)
    QuizAnswer.objects.update_or_create(
        user=request.user, course=course.slug, exercise=exercise.slug, check_id=quiz.id,
        defaults={"answer": value, "answered_at": timezone.now()})
    result = grade_exercise(exercise, sandbox_for(request.user, exercise.tier),
                            answers_for(request.user, course.slug, exercise.slug))
    progress = remember(request.user, course, lesson, result, attempt=True)
    return JsonResponse({**result.as_dict(), "done": progress.first_passed_at is not None})


@login_required
@require_POST
def solution(request, course_slug, lesson_slug, exercise_slug):
    course, lesson, exercise = _lesson_and_exercise(course_slug, lesson_slug, exercise_slug)
    progress, _ = ExerciseProgress.objects.get_or_create(
        user=request.user, course=course.slug, exercise=exercise.slug,
        defaults={"lesson": lesson.slug})
    # Seeing the solution is recorded (once, the first time): instructors see who looked.
    ExerciseProgress.objects.filter(pk=progress.pk, solution_revealed_at__isnull=True).update(
        solution_revealed_at=timezone.now())
    parts = []
    commands = (exercise.solution.get("commands") or "").strip()
    if commands:
        parts.append(f"```bash run\n{commands}\n```")
    answers = exercise.solution.get("answers") or {}
    titles = {c.id: c.spec.get("question", c.id) for c in exercise.checks}
    for check_id, value in answers.items():
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        parts.append(f"- **{titles.get(check_id, check_id)}** {shown}")
    if exercise.solution.get("explanation"):
        parts.append(str(exercise.solution["explanation"]))
    return JsonResponse({"html": render_markdown("\n\n".join(parts)).html})
