"""A sandbox: one learner's own Kubernetes cluster, and the state machine of its life."""
from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from sandboxes.names import cluster_name


class State(models.TextChoices):
    REQUESTED = "requested", "Waiting for capacity"
    PROVISIONING = "provisioning", "Starting"
    READY = "ready", "Ready"
    EXPIRING = "expiring", "About to expire"
    DELETING = "deleting", "Stopping"
    DELETED = "deleted", "Stopped"
    FAILED = "failed", "Failed"


# States in which a sandbox holds (or is about to hold) a cluster and counts against quotas.
ACTIVE_STATES = (State.REQUESTED, State.PROVISIONING, State.READY, State.EXPIRING)
# States in which the cluster exists and the learner may use it.
USABLE_STATES = (State.READY, State.EXPIRING)
# States in which a cluster may exist on the backend (the reconciler must not delete it).
CLUSTER_STATES = (State.PROVISIONING, State.READY, State.EXPIRING, State.DELETING)


class Tier(models.TextChoices):
    API = "api", "API cluster (kwok)"
    FULL = "full", "Full cluster (kind)"


class SandboxQuerySet(models.QuerySet):
    def active(self):
        return self.filter(state__in=ACTIVE_STATES)

    def owned_by(self, user):
        return self.filter(owner=user)

    def pool(self, tier: str):
        return self.filter(owner__isnull=True, tier=tier)


class Sandbox(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="sandboxes")
    tier = models.CharField(max_length=10, choices=Tier.choices, default=Tier.API)
    backend = models.CharField(max_length=20)
    host = models.CharField(max_length=100, help_text="The worker host that runs the cluster.")
    cluster = models.CharField(max_length=63, unique=True)
    course = models.SlugField(max_length=100, blank=True)
    lesson = models.SlugField(max_length=100, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.REQUESTED,
                             db_index=True)
    failure = models.TextField(blank=True, help_text="Why it failed, in words for an operator.")
    kubeconfig = models.CharField(max_length=500, blank=True)

    # The progress bar: the last step reported while provisioning.
    step = models.CharField(max_length=100, blank=True)
    percent = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    provisioning_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(default=timezone.now)
    warned_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = SandboxQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tier", "state", "owner"])]

    def __str__(self):
        return f"{self.cluster} ({self.tier}, {self.state})"

    def save(self, *args, **kwargs):
        if not self.cluster:
            self.cluster = cluster_name(self.id)
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def is_usable(self) -> bool:
        return self.state in USABLE_STATES

    @property
    def idle_deadline(self):
        return self.last_activity_at + timedelta(seconds=settings.SANDBOX_IDLE_TIMEOUT)

    def transition(self, from_states, to_state: str, **fields) -> bool:
        """Move to to_state only if the row is still in one of from_states; True if this call
        made the change. Two workers racing for the same sandbox cannot both win."""
        if isinstance(from_states, str):
            from_states = (from_states,)
        changed = Sandbox.objects.filter(pk=self.pk, state__in=from_states).update(
            state=to_state, **fields)
        if changed:
            self.state = to_state
            for name, value in fields.items():
                setattr(self, name, value)
        return changed == 1


class SandboxEvent(models.Model):
    """What happened to a sandbox, for operators and for the honest ETA (past durations)."""

    sandbox = models.ForeignKey(Sandbox, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=40)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["at"]


class CommandRecord(models.Model):
    """A command the learner ran in their terminal, as their shell reported it (after editing,
    history recall and completion), with its exit code. Checks of kind `command` read these."""

    sandbox = models.ForeignKey(Sandbox, on_delete=models.CASCADE, related_name="commands")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    line = models.TextField()
    exit_code = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
