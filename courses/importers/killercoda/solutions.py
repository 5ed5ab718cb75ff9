"""An exercise's solution: the step folder's solution.sh / solution.md, else the solution the
author wrote into the step's text (`<details>`, a "Solution" section), else the step's runnable
code, else an explanation only (with a warning)."""
from __future__ import annotations

import re
from pathlib import PurePosixPath

from courses.importers.killercoda import markers
from courses.importers.killercoda.cleanup import define_k
from courses.importers.killercoda.files import ScenarioFiles
from courses.importers.killercoda.text import (
    clean_script,
    md_commands,
    prose,
    solution_words,
    take_shell_blocks,
)

# Commands that run until interrupted: typed by test_course they would never finish.
ENDLESS = re.compile(
    r"^\s*(watch\b|.*\bkubectl\s+(proxy|port-forward)\b|.*\bkubectl\b.*\s(-w|--watch)(=\S+)?(\s|$)"
    r"|.*\bkubectl\b.*\blogs\b.*\s(-f|--follow)(\s|$)|.*\btail\s+(-\w*[fF])\b)")
# Commands that wait for a person: an editor or a pager.
INTERACTIVE = re.compile(r"^\s*(?:sudo\s+)?(?:vi|vim|nano|emacs|less|more|top|htop)\b"
                         r"|^\s*(?:kubectl|k)\b.*\sedit\b")
NO_SOLUTION = "# No solution commands: the Killercoda scenario had none for this step."


def find_solution(files: ScenarioFiles, spec: dict, where: str, converted: markers.Converted,
                  written: list[str]) -> tuple[str, str]:
    """(commands, explanation) for the step spec describes; written is the solution Markdown the
    author put into the step's text."""
    found = _solution_files(files, spec, where)
    if found:
        commands, explanation = found
        if written and explanation.startswith("The scenario's solution ("):
            # The author's own words beat a file name.
            explanation = solution_words("\n\n".join(written)) or explanation
        return define_k(commands, typed=True), explanation
    if written:
        commands, explanation = _written_solution(files, where, written)
        if commands:
            return define_k(commands, typed=True), explanation
    runnable = _runnable(files, where, converted.commands)
    if runnable:
        words = solution_words("\n\n".join(written)) if written else ""
        return (define_k("\n".join(runnable), typed=True),
                words or "Killercoda has no solution file: these are the step's runnable "
                         "commands, in order. Running them completes the step.")
    if written:
        files.warn(f"{where}: the solution in the step's text has no commands; it only "
                   "explains, so test_course cannot prove this exercise")
        return NO_SOLUTION, "\n\n".join(written)
    files.warn(f"{where}: no solution found (no solution.md or solution.sh in the step folder, "
               "no solution in the text and no {{exec}} code); the solution only explains, so "
               "test_course cannot prove this exercise")
    return (NO_SOLUTION, "The imported scenario has no solution for this step: follow the "
                         "lesson's instructions, then press Check.")


def _runnable(files: ScenarioFiles, where: str, commands: list[str]) -> list[str]:
    """The commands test_course can type: not those that run until interrupted or wait for a
    person, which are left out with a warning."""
    runnable = []
    for command in commands:
        first = command.split("\n")[0]
        if ENDLESS.match(first):
            files.warn(f"{where}: '{first}' runs until interrupted, so it is left out of the "
                       "exercise's solution")
        elif INTERACTIVE.match(first):
            files.warn(f"{where}: '{first}' waits for the learner (an editor or a pager), so it "
                       "is left out of the exercise's solution")
        else:
            runnable.append(command)
    return runnable


def _written_solution(files: ScenarioFiles, where: str, written: list[str]) -> tuple[str, str]:
    """(commands, explanation) of the solution Markdown in the step's text: its shell blocks are
    the commands, and what is left (words, manifests) the explanation."""
    solution = "\n\n".join(written)
    blocks, _ = take_shell_blocks(solution)
    commands = _runnable(files, where, blocks)
    words = solution_words(solution)
    if not commands:
        return "", words
    return ("\n".join(commands).strip("\n") + "\n",
            words or "The scenario's solution, from the step's text.")


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
