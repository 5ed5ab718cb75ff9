"""Pages a learner reads: the catalog, a course's overview and a lesson."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from courses import setup
from courses.catalog import all_courses, get_course, version_of
from courses.grading.checks import default_title, quiz_type
from courses.grading.engine import passed_exercises, required_exercises, sandbox_for
from courses.models import ExerciseProgress, LessonProgress, QuizAnswer
from courses.rendering import render_markdown
from sandboxes import tiers
from sandboxes.models import Sandbox


def _get_course_or_404(slug: str):
    course = get_course(slug)
    if course is None:
        raise Http404("No such course")
    return course


def _get_lesson_or_404(course, lesson_slug: str):
    lesson = course.lesson(lesson_slug)
    if lesson is None:
        raise Http404("No such lesson")
    return lesson


def catalog(request):
    cards = []
    for course in all_courses():
        done = LessonProgress.objects.completed_slugs(request.user, course.slug)
        total = len(course.lessons)
        finished = len(done & {lesson.slug for lesson in course.lessons})
        cards.append({"course": course, "done": finished, "total": total,
                      "percent": round(100 * finished / total) if total else 0})
    return render(request, "courses/catalog.html", {"cards": cards})


def course_detail(request, course_slug):
    course = _get_course_or_404(course_slug)
    done = LessonProgress.objects.completed_slugs(request.user, course.slug)
    passed = passed_exercises(request.user, course.slug)
    rows = []
    for lesson in course.lessons:
        required = required_exercises(lesson)
        rows.append({"lesson": lesson, "done": lesson.slug in done, "total": len(required),
                     "passed": sum(1 for ex in required if ex.slug in passed)})
    finished = sum(1 for row in rows if row["done"])
    next_lesson = next((row["lesson"] for row in rows if not row["done"]),
                       course.lessons[0] if course.lessons else None)
    return render(request, "courses/course_detail.html", {
        "course": course,
        "rows": rows,
        "finished": finished,
        "percent": round(100 * finished / len(rows)) if rows else 0,
        "next_lesson": next_lesson,
        "description": render_markdown(course.description).html if course.description else "",
    })


@login_required
def lesson_detail(request, course_slug, lesson_slug):
    course = _get_course_or_404(course_slug)
    lesson = _get_lesson_or_404(course, lesson_slug)
    LessonProgress.opened(request.user, course.slug, lesson.slug)
    done = LessonProgress.objects.completed_slugs(request.user, course.slug)
    previous, following = course.neighbours(lesson.slug)
    rendered = render_markdown(lesson.body)
    # A lesson with mistakes in its files still renders what it can and lists the problems,
    # so an author editing it sees them at once and a learner never meets a 500.
    problems = [p for p in course.problems if p.path == lesson.path]
    exercises = _exercise_panel(request.user, course, lesson)
    # Opening a lesson prepares the learner's cluster for it (off the request: a task).
    setup_status = setup.request_setup(sandbox_for(request.user, lesson.tier), course, lesson)
    sandbox, need = _lab_sandbox(request.user, lesson), _needed_tier(lesson)
    return render(request, "courses/lesson.html", {
        "exercises": exercises,
        "locked": _locked(lesson, exercises),
        "course": course,
        "lesson": lesson,
        "body": rendered.html,
        "toc": rendered.toc,
        "previous": previous,
        "next": following,
        "done": done,
        "is_done": lesson.slug in done,
        "problems": problems,
        "sandbox": sandbox,
        "need": need,
        "lab_action": _lab_action(sandbox, need),
        "need_for": _needing_more(lesson, exercises),
        "setup": setup_status,
        "has_setup": bool(setup.parts(course, lesson)),
        "tiers": tiers.for_page(),
    })


def _lab_sandbox(user, lesson):
    """The cluster the lab panel and terminal show: the learner's active one that can serve the
    lesson (a full cluster serves an api lesson too), else their active one of any tier (the
    panel then offers to switch)."""
    active = Sandbox.objects.active().owned_by(user)
    return tiers.closest(active, lesson.tier) or active.first()


def _needed_tier(lesson) -> str:
    """The tier of cluster the lab panel's one button gets the learner: the most any part of
    the lesson needs, of the tiers this lab offers (a full-tier exercise in a lab without full
    clusters is optional, so it does not ask for one)."""
    wanted = [lesson.tier, *(ex.tier for ex in lesson.exercises)]
    offered = [t for t in wanted if t in tiers.REGISTRY and tiers.get(t).enabled]
    if not offered:
        return lesson.tier
    return max(offered, key=lambda name: tiers.get(name).rank)


def _lab_action(sandbox, need: str) -> str:
    """What the lab panel's one button does first: "start" a cluster, "switch" to one of the
    needed tier, or nothing ("") when the learner's cluster serves the lesson. (The page's script
    keeps it up to date as the cluster changes.)"""
    if sandbox is None:
        return "start"
    return "" if tiers.satisfies(sandbox.tier, need) else "switch"


def _needing_more(lesson, exercises) -> list[str]:
    """Titles of the exercises that need more than the lesson's own tier, when this lab offers
    it: the lab panel says why it asks for that cluster."""
    return [ex["title"] for ex in exercises
            if ex["offered"] and not tiers.satisfies(lesson.tier, ex["tier"])]


@login_required
def lesson_setup(request, course_slug, lesson_slug):
    """The lesson's setup on the learner's cluster, as JSON: GET reads it; POST sends it to run
    if it has not (the page does when the cluster becomes ready), with again=1 after it failed."""
    course = _get_course_or_404(course_slug)
    lesson = _get_lesson_or_404(course, lesson_slug)
    sandbox = sandbox_for(request.user, lesson.tier)
    if request.method == "POST":
        found = (setup.run_again if request.POST.get("again") == "1" else setup.request_setup)(
            sandbox, course, lesson)
    elif request.method == "GET":
        found = setup.status(sandbox, course, lesson)
    else:
        return JsonResponse({"error": "GET or POST only."}, status=405)
    return JsonResponse(found.as_dict())


def _exercise_panel(user, course, lesson) -> list[dict]:
    """What the exercise panel shows before the live status arrives."""
    progress = {p.exercise: p for p in ExerciseProgress.objects.filter(user=user, course=course.slug)}
    answers = {(a.exercise, a.check_id): a.answer
               for a in QuizAnswer.objects.filter(user=user, course=course.slug)}
    panel = []
    for exercise in lesson.exercises:
        mine = progress.get(exercise.slug)
        checks = []
        for check in exercise.checks:
            item = {"id": check.id, "kind": check.kind, "title": check.title or default_title(check)}
            if check.kind == "quiz":
                item["quiz_type"] = quiz_type(check.spec)
                item["question"] = check.spec.get("question", "")
                item["choices"] = [str(c) for c in check.spec.get("choices") or []]
                saved = answers.get((exercise.slug, check.id))
                item["saved"] = saved if isinstance(saved, list) else ([] if saved is None else [str(saved)])
                item["saved_text"] = "" if saved is None or isinstance(saved, list) else str(saved)
            checks.append(item)
        panel.append({
            "slug": exercise.slug, "title": exercise.title,
            "goal": render_markdown(exercise.goal).html if exercise.goal else "",
            "checks": checks, "hints": [render_markdown(h).html for h in exercise.hints],
            "done": bool(mine and mine.first_passed_at),
            "revealed": bool(mine and mine.solution_revealed_at),
            "tier": exercise.tier, "tier_label": tiers.label(exercise.tier),
            "offered": tiers.offered(exercise.tier),
        })
    return panel


def _locked(lesson, exercises) -> bool:
    """A gated lesson keeps "Next" closed until all its exercises are done."""
    return lesson.gate and not all(e["done"] for e in exercises if e["offered"])


@login_required
@require_POST
def lesson_complete(request, course_slug, lesson_slug):
    course = _get_course_or_404(course_slug)
    lesson = _get_lesson_or_404(course, lesson_slug)
    if lesson.gate and lesson.exercises:
        done = passed_exercises(request.user, course.slug)
        if not all(ex.slug in done for ex in required_exercises(lesson)):
            messages.error(request, "Finish this lesson's exercises first: your instructor asked "
                                    "for them before you move on.")
            return redirect("lesson", course.slug, lesson.slug)
    LessonProgress.complete(request.user, course.slug, lesson.slug)
    _, following = course.neighbours(lesson.slug)
    if following is not None:
        return redirect("lesson", course.slug, following.slug)
    return redirect("course", course.slug)


@login_required
@require_GET
@never_cache
def course_version(request, course_slug):
    """Live preview: the lesson page of an author polls this and reloads when it changes."""
    version = version_of(course_slug)
    if version is None:
        raise Http404("No such course")
    return JsonResponse({"version": version})
