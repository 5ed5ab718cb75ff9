"""Who may see or drive a sandbox: its owner drives it; instructors may look; nobody else
learns that it exists (they get a 404, not a 403)."""
from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.utils.module_loading import import_string

from sandboxes.models import Sandbox


def can_drive(user, sandbox: Sandbox) -> bool:
    return user.is_authenticated and sandbox.owner_id == user.pk


def can_watch(user, sandbox: Sandbox) -> bool:
    """The owner, and whoever the lab's watch policy says teaches them (the classes app decides:
    sandboxes/ knows nothing of classes)."""
    if can_drive(user, sandbox):
        return True
    if not user.is_authenticated or sandbox.owner_id is None:
        return bool(user.is_authenticated and user.is_staff)
    return bool(import_string(settings.SANDBOX_WATCH_POLICY)(user, sandbox.owner_id))


def get_sandbox_for(user, sandbox_id, drive: bool) -> Sandbox:
    sandbox = Sandbox.objects.filter(pk=sandbox_id).first()
    if sandbox is None or not (can_drive(user, sandbox) if drive else can_watch(user, sandbox)):
        raise Http404("No such sandbox")
    return sandbox
