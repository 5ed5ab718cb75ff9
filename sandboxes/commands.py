"""The record of commands a learner ran: written by the terminal, read by grading."""
from __future__ import annotations

from sandboxes.models import CommandRecord, Sandbox


def record(sandbox_id, line: str, exit_code: int | None) -> CommandRecord | None:
    if not Sandbox.objects.filter(pk=sandbox_id).exists():
        return None
    return CommandRecord.objects.create(sandbox_id=sandbox_id, line=line, exit_code=exit_code)


def history(sandbox: Sandbox) -> list[CommandRecord]:
    return list(sandbox.commands.all())
