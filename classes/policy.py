"""Who teaches whom: the rule sandboxes/ uses (through settings.SANDBOX_WATCH_POLICY) to let an
instructor watch a learner's terminal, read-only."""
from __future__ import annotations

from classes.models import Cohort, Membership
from lab.roles import is_instructor


def teaches(instructor, learner_id) -> bool:
    """Staff see everyone; an instructor sees the learners of the classes they teach."""
    if not is_instructor(instructor):
        return False
    if instructor.is_staff:
        return True
    return Membership.objects.filter(user_id=learner_id, cohort__instructor=instructor).exists()


def visible_cohorts(user):
    if user.is_staff:
        return Cohort.objects.all()
    return Cohort.objects.filter(instructor=user)
