"""An exercise's solution as the separate commands a learner would type."""
from __future__ import annotations

import re

HEREDOC = re.compile(r"<<-?\s*(['\"]?)(\w+)\1")


def split_commands(text: str) -> list[str]:
    """Top-level commands of a shell snippet: one per line, except that a here-document's body
    and lines continued with a backslash belong to the command that starts them."""
    commands: list[str] = []
    lines = text.strip("\n").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.lstrip().startswith("#"):
            i += 1
            continue
        block = [line]
        while block[-1].endswith("\\") and i + 1 < len(lines):
            i += 1
            block.append(lines[i])
        heredoc = HEREDOC.search(line)
        if heredoc:
            end = heredoc.group(2)
            while i + 1 < len(lines):
                i += 1
                block.append(lines[i])
                if lines[i].strip() == end:
                    break
        commands.append("\n".join(block))
        i += 1
    return commands
