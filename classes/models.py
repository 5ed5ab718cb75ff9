"""A class (cohort): an instructor, a course, and the learners who joined with its link."""
from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


def new_join_code() -> str:
    return secrets.token_urlsafe(9)


class Cohort(models.Model):
    name = models.CharField(max_length=120)
    course = models.SlugField(max_length=100)
    instructor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                   related_name="taught_cohorts")
    join_code = models.CharField(max_length=32, unique=True, default=new_join_code)
    open_for_joining = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="cohort_memberships")
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cohort", "user"], name="join_once")]
