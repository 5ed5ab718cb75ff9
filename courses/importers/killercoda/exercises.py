"""A step's verify script as an exercise with one `script` check, and its solution."""
from __future__ import annotations

from courses.importers.killercoda import markers
from courses.importers.killercoda.files import ScenarioFiles
from courses.importers.killercoda.solutions import find_solution
from courses.importers.killercoda.text import clean_script
from courses.importers.model import ImportedExercise

VERIFY_TIMEOUT = 15  # Killercoda gives a verify script about 15 s


def read_exercise(files: ScenarioFiles, spec: dict, where: str, slug: str, title: str,
                  converted: markers.Converted) -> ImportedExercise | None:
    script = files.read(spec["verify"], where, "verify script")
    if script is None:
        files.warn(f"{where}: no exercise, because its verify script could not be read")
        return None
    if not script.strip():
        files.warn(f"{where}: the verify script '{spec['verify']}' is empty; no exercise")
        return None
    files.mentions_root(script, f"the {where} verify script")
    commands, explanation = find_solution(files, spec, where, converted)
    return ImportedExercise(
        slug=slug, title=title,
        goal=f"Complete the task of this step: {title}.",
        script=clean_script(script, keep_shebang=True),
        commands=commands, explanation=explanation, timeout=VERIFY_TIMEOUT)
