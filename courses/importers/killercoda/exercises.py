"""A step's verify script as an exercise with one `script` check (with a timeout that fits what
the script waits for), its hints and its solution."""
from __future__ import annotations

import re

from courses.grading.checks import DEFAULT_SCRIPT_TIMEOUT
from courses.importers.killercoda import markers
from courses.importers.killercoda.cleanup import define_k
from courses.importers.killercoda.files import ScenarioFiles
from courses.importers.killercoda.solutions import find_solution
from courses.importers.killercoda.text import clean_script
from courses.importers.model import ImportedExercise
from courses.schema import SCRIPT_TIMEOUT_MAX

# A verify script that waits for the cluster (a rollout, a condition, a loop that sleeps) takes
# 60 to 120 s on Killercoda; one that only looks takes a second.
WAITS = re.compile(r"\b(?:kubectl|k)\b[^\n|;&]*\s(?:wait|rollout\s+status)\b|\bsleep\s|"
                   r"^\s*(?:while|until)\b|\btimeout\s+\d", re.MULTILINE)
WAITING_TIMEOUT = SCRIPT_TIMEOUT_MAX


def check_timeout(script: str) -> int:
    """Seconds the imported check may take: the lab's most for a script that waits."""
    return WAITING_TIMEOUT if WAITS.search(script) else DEFAULT_SCRIPT_TIMEOUT


def read_exercise(files: ScenarioFiles, spec: dict, where: str, slug: str, title: str,
                  converted: markers.Converted, written: list[str],
                  hints: list[str]) -> ImportedExercise | None:
    """The exercise of a step with a verify script; written and hints are the solution and hint
    Markdown the author put into the step's text."""
    script = files.read(spec["verify"], where, "verify script")
    if script is None:
        files.warn(f"{where}: no exercise, because its verify script could not be read")
        return None
    if not script.strip():
        files.warn(f"{where}: the verify script '{spec['verify']}' is empty; no exercise")
        return None
    files.mentions_root(script, f"the {where} verify script")
    commands, explanation = find_solution(files, spec, where, converted, written)
    timeout = check_timeout(script)
    if timeout != DEFAULT_SCRIPT_TIMEOUT:
        files.warn(f"{where}: the verify script waits for the cluster, so its check may take "
                   f"{timeout} s (timeout: {timeout})")
    return ImportedExercise(
        slug=slug, title=title,
        goal=f"Complete the task of this step: {title}.",
        script=define_k(clean_script(script, keep_shebang=True)),
        commands=commands, explanation=explanation,
        hints=[hint for hint in hints if hint.strip()], timeout=timeout)
