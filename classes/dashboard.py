"""The numbers behind a class dashboard: learners × exercises, and the class's live sandboxes."""
from __future__ import annotations

from django.utils import timezone

from classes.models import Cohort
from courses.catalog import get_course
from courses.models import ExerciseProgress
from sandboxes import tiers
from sandboxes.backends import get_backend
from sandboxes.models import ACTIVE_STATES, Sandbox


def _when(value):
    return value.isoformat() if value else None


def matrix(cohort: Cohort) -> dict:
    course = get_course(cohort.course)
    # Only what this lab can run: a full-tier exercise where no full clusters are offered is
    # optional for the learners and would be an empty column here.
    exercises = [ex for ex in course.exercises() if tiers.offered(ex.tier)] if course else []
    members = list(cohort.memberships.select_related("user").order_by("user__username"))
    user_ids = [m.user_id for m in members]
    progress = {(p.user_id, p.exercise): p for p in ExerciseProgress.objects.filter(
        course=cohort.course, user_id__in=user_ids)}
    rows = []
    for member in members:
        cells = []
        for exercise in exercises:
            p = progress.get((member.user_id, exercise.slug))
            cells.append({
                "exercise": exercise.slug,
                "passed": bool(p and p.first_passed_at),
                "passing_now": bool(p and p.passed),
                "passed_at": _when(p.first_passed_at if p else None),
                "attempts": p.attempts if p else 0,
                "solution_revealed": bool(p and p.solution_revealed_at),
            })
        rows.append({"user": member.user.username, "user_id": member.user_id,
                     "joined_at": _when(member.joined_at), "cells": cells,
                     "done": sum(1 for c in cells if c["passed"])})
    return {
        "cohort": cohort.name,
        "course": cohort.course,
        "exercises": [{"slug": e.slug, "title": e.title, "lesson": e.lesson_slug} for e in exercises],
        "learners": rows,
        "sandboxes": sandboxes(user_ids),
    }


def sandboxes(user_ids) -> list[dict]:
    now = timezone.now()
    found = []
    for sandbox in (Sandbox.objects.filter(owner_id__in=user_ids, state__in=ACTIVE_STATES)
                    .select_related("owner").order_by("owner__username")):
        memory = None
        if sandbox.cluster and sandbox.is_usable:
            try:
                memory = get_backend(sandbox.tier).memory_bytes(sandbox.cluster)
            except Exception:  # noqa: BLE001 - a number we cannot read is shown as unknown
                memory = None
        found.append({
            "id": str(sandbox.id), "owner": sandbox.owner.username, "tier": sandbox.tier,
            "state": sandbox.state, "age_seconds": int((now - sandbox.created_at).total_seconds()),
            "memory_mib": round(memory / 2**20) if memory else None,
            "lesson": sandbox.lesson, "usable": sandbox.is_usable,
        })
    return found
