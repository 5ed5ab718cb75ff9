"""Instructors: their classes, a live dashboard per class, join links, CSV export, and watching
or stopping a learner's sandbox. Learners: joining a class by its link."""
from __future__ import annotations

import csv
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from classes import dashboard
from classes.models import Cohort, Membership
from classes.policy import teaches, visible_cohorts
from courses.catalog import all_courses
from lab.roles import is_instructor
from sandboxes import lifecycle
from sandboxes.models import Sandbox


def instructor_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not is_instructor(request.user):
            raise PermissionDenied("Only instructors can open this page.")
        return view(request, *args, **kwargs)
    return wrapper


def _get_cohort_for_user(request, cohort_id) -> Cohort:
    # Another instructor's class is not found, rather than forbidden: its existence is private.
    return get_object_or_404(visible_cohorts(request.user), pk=cohort_id)


class CohortForm(forms.ModelForm):
    class Meta:
        model = Cohort
        fields = ("name", "course")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"] = forms.ChoiceField(choices=[(c.slug, c.title) for c in all_courses()])


@instructor_required
def class_list(request):
    form = CohortForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        cohort = form.save(commit=False)
        cohort.instructor = request.user
        cohort.save()
        messages.success(request, f"Class “{cohort.name}” created. Share its join link with your learners.")
        return redirect("class-detail", cohort.pk)
    cohorts = visible_cohorts(request.user).prefetch_related("memberships")
    return render(request, "classes/list.html", {"cohorts": cohorts, "form": form})


@instructor_required
def class_detail(request, cohort_id):
    cohort = _get_cohort_for_user(request, cohort_id)
    join_url = request.build_absolute_uri(reverse("class-join", args=[cohort.join_code]))
    return render(request, "classes/detail.html", {"cohort": cohort, "join_url": join_url,
                                                   "data": dashboard.matrix(cohort)})


@instructor_required
def class_matrix(request, cohort_id):
    return JsonResponse(dashboard.matrix(_get_cohort_for_user(request, cohort_id)))


@instructor_required
def class_export(request, cohort_id):
    cohort = _get_cohort_for_user(request, cohort_id)
    data = dashboard.matrix(cohort)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{cohort.course}-{cohort.pk}-progress.csv"'
    writer = csv.writer(response)
    writer.writerow(["learner", "lesson", "exercise", "passed", "first_passed_at", "attempts",
                     "solution_revealed"])
    lessons = {e["slug"]: e["lesson"] for e in data["exercises"]}
    for row in data["learners"]:
        for cell in row["cells"]:
            writer.writerow([_safe_cell(row["user"]), lessons[cell["exercise"]], cell["exercise"],
                             "yes" if cell["passed"] else "no", cell["passed_at"] or "",
                             cell["attempts"], "yes" if cell["solution_revealed"] else "no"])
    return response


def _safe_cell(value: str) -> str:
    """A spreadsheet runs a cell starting with = + - @ as a formula; a username never should."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _class_sandbox(request, cohort_id, sandbox_id) -> tuple[Cohort, Sandbox]:
    cohort = _get_cohort_for_user(request, cohort_id)
    sandbox = get_object_or_404(Sandbox, pk=sandbox_id)
    if not cohort.memberships.filter(user_id=sandbox.owner_id).exists() or \
            not teaches(request.user, sandbox.owner_id):
        raise Http404("No such sandbox in this class")
    return cohort, sandbox


@instructor_required
@require_POST
def sandbox_stop(request, cohort_id, sandbox_id):
    cohort, sandbox = _class_sandbox(request, cohort_id, sandbox_id)
    lifecycle.stop(sandbox, reason=f"stopped by instructor {request.user}")
    messages.success(request, f"Stopping {sandbox.owner.username}'s cluster.")
    return redirect("class-detail", cohort.pk)


@instructor_required
@require_POST
def sandbox_reset(request, cohort_id, sandbox_id):
    cohort, sandbox = _class_sandbox(request, cohort_id, sandbox_id)
    try:
        lifecycle.reset(sandbox)
    except lifecycle.SandboxRefused as exc:
        messages.error(request, str(exc))
        return redirect("class-detail", cohort.pk)
    messages.success(request, f"{sandbox.owner.username}'s cluster is being replaced by a fresh one.")
    return redirect("class-detail", cohort.pk)


@instructor_required
def sandbox_watch(request, cohort_id, sandbox_id):
    cohort, sandbox = _class_sandbox(request, cohort_id, sandbox_id)
    return render(request, "classes/watch.html", {"cohort": cohort, "sandbox": sandbox})


@login_required
def join(request, code):
    cohort = Cohort.objects.filter(join_code=code).first()
    if cohort is None or not cohort.open_for_joining:
        raise Http404("This join link is not valid (any more).")
    if request.method == "POST":
        _, created = Membership.objects.get_or_create(cohort=cohort, user=request.user,
                                                      defaults={"joined_at": timezone.now()})
        if created:
            from classes.consumers import announce_member
            announce_member(cohort.pk, request.user.pk)
        messages.success(request, f"You joined “{cohort.name}”.")
        return redirect("course", cohort.course)
    member = cohort.memberships.filter(user=request.user).exists()
    return render(request, "classes/join.html", {"cohort": cohort, "member": member})
