"""The record of commands a learner ran: written by the terminal, read by grading."""
from __future__ import annotations

from sandboxes.models import CommandRecord, Sandbox


def record(sandbox_id, line: str, exit_code: int | None) -> CommandRecord | None:
    """Store a command the learner ran, and tell their open pages (live grading) at once."""
    from sandboxes.progress import poke_learner

    owner = Sandbox.objects.filter(pk=sandbox_id).values_list("owner_id", flat=True).first()
    if owner is None and not Sandbox.objects.filter(pk=sandbox_id).exists():
        return None
    command = CommandRecord.objects.create(sandbox_id=sandbox_id, line=line, exit_code=exit_code)
    poke_learner(owner)
    return command
