"""An exercise's solution: the step folder's solution.sh / solution.md, else the step's runnable
code, else an explanation only (with a warning)."""
from __future__ import annotations

import re
from pathlib import PurePosixPath

from courses.importers.killercoda import markers
from courses.importers.killercoda.files import ScenarioFiles
from courses.importers.killercoda.text import clean_script, md_commands, prose

# Commands that run until interrupted: typed by test_course they would never finish.
ENDLESS = re.compile(
    r"^\s*(watch\b|.*\bkubectl\s+(proxy|port-forward)\b|.*\bkubectl\b.*\s(-w|--watch)(=\S+)?(\s|$)"
    r"|.*\bkubectl\b.*\blogs\b.*\s(-f|--follow)(\s|$)|.*\btail\s+(-\w*[fF])\b)")
NO_SOLUTION = "# No solution commands: the Killercoda scenario had none for this step."


def find_solution(files: ScenarioFiles, spec: dict, where: str,
                  converted: markers.Converted) -> tuple[str, str]:
    """(commands, explanation) for the step spec describes."""
    found = _solution_files(files, spec, where)
    if found:
        return found
    runnable = []
    for command in converted.commands:
        if ENDLESS.match(command.split("\n")[0]):
            files.warn(f"{where}: '{command.splitlines()[0]}' runs until interrupted, so it is "
                       "left out of the exercise's solution")
        else:
            runnable.append(command)
    if runnable:
        return ("\n".join(runnable),
                "Killercoda has no solution file: these are the step's runnable commands, in "
                "order. Running them completes the step.")
    files.warn(f"{where}: no solution found (no solution.md or solution.sh in the step folder "
               "and no {{exec}} code in the text); the solution only explains, so test_course "
               "cannot prove this exercise")
    return (NO_SOLUTION, "The imported scenario has no solution for this step: follow the "
                         "lesson's instructions, then press Check.")


def _solution_files(files: ScenarioFiles, spec: dict, where: str) -> tuple[str, str] | None:
    """solution.sh (with solution.md's words) or solution.md's commands, from the first folder
    of the step's text or verify script that has either."""
    folders = []
    for key in ("text", "verify"):
        rel = spec.get(key)
        if isinstance(rel, str):
            parent = str(PurePosixPath(rel).parent)
            if parent not in (".", "") and parent not in folders:
                folders.append(parent)
    script_text = notes = None
    found = []
    for folder in folders:
        for name in ("solution.sh", "solution.md"):
            if files.path(f"{folder}/{name}") is None:
                continue
            text = files.read(f"{folder}/{name}", where, "solution")
            if text is None:
                continue
            found.append(f"{folder}/{name}")
            if name == "solution.sh" and script_text is None:
                script_text = text
            elif name == "solution.md" and notes is None:
                notes = text
        if found:
            break
    if script_text is not None and script_text.strip():
        explanation = prose(notes) if notes else ""
        return clean_script(script_text), explanation or f"The scenario's solution ({found[0]})."
    if notes is not None:
        commands = md_commands(notes)
        if commands:
            return commands, prose(notes) or f"The scenario's solution ({found[0]})."
    return None
