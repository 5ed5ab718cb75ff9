"""Who may see or drive a sandbox: its owner drives it; instructors may look; nobody else
learns that it exists (they get a 404, not a 403)."""
from __future__ import annotations

from django.http import Http404

from lab.roles import is_instructor
from sandboxes.models import Sandbox


def can_drive(user, sandbox: Sandbox) -> bool:
    return user.is_authenticated and sandbox.owner_id == user.pk


def can_watch(user, sandbox: Sandbox) -> bool:
    return can_drive(user, sandbox) or is_instructor(user)


def get_sandbox_for(user, sandbox_id, drive: bool) -> Sandbox:
    sandbox = Sandbox.objects.filter(pk=sandbox_id).first()
    if sandbox is None or not (can_drive(user, sandbox) if drive else can_watch(user, sandbox)):
        raise Http404("No such sandbox")
    return sandbox
