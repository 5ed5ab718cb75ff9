"""`test_course --all DIR`: every course below DIR, or every Killercoda scenario there (imported
into a temporary folder first, never into the lab's own courses), proven as test_course proves
one: its import (and that every page renders), its setup, and each exercise failing before its
solution and passing after it, on a fresh sandbox of its tier, with the reason when one fails.

A course with neither a setup nor an exercise has nothing to run on a cluster: it passes on its
import alone, and its report says that no cluster was needed. The importer's warnings about what
the lab cannot do (the internet, several nodes, a node's shell, root, the app view) are kept as
the scenario's `needs`, so a failure's cause can be told from a fault of the lab's.
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from courses.catalog import course_dirs
from courses.course_files import Course, load_course
from courses.grading import course_test, script_messages
from courses.rendering import render_markdown
from sandboxes import tiers

# Words of the importer's warnings -> what the scenario needs that the lab cannot give (yet).
NEEDS = (
    ("downloads from the internet", "internet"),
    ("two nodes", "several nodes"),
    ("a node's shell", "a node's shell"),
    ("root and a package manager", "root and a package manager"),
    ("docker, podman, nerdctl or ctr", "a container runtime on a node"),
    ("uses crictl", "a container runtime on a node"),
    ("TRAFFIC", "the app view"),
    ("Traffic / Ports", "the app view"),
    ("'/root'", "/root paths"),
    ("the lab has no VM", "a VM (root on a machine)"),
    ("k3s", "k3s"),
)


@dataclass
class ScenarioReport:
    name: str  # the scenario's path below DIR, or the course's folder
    course: str = ""
    tier: str = ""
    imported: bool = False
    problems: list[str] = field(default_factory=list)  # import, validation and rendering
    needs: list[str] = field(default_factory=list)
    cluster: bool = False  # whether it ran on a fresh sandbox
    setups: list[dict] = field(default_factory=list)
    exercises: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # exercises its tier cannot serve
    ok: bool = False
    reason: str = ""  # the first thing that went wrong
    seconds: float = 0.0


def source_kind(path: Path) -> str | None:
    """"killercoda" (index.json or structure.json below), "courses" (course.yaml), or None."""
    path = Path(path)
    if course_dirs([path]):
        return "courses"
    if (path / "index.json").is_file() or (path / "structure.json").is_file() or \
            next(path.glob("**/index.json"), None) is not None:
        return "killercoda"
    return None


def tier_for(course: Course, requested: str | None) -> str:
    """The tier a course is proven on: the one asked for, else the most it needs, of the tiers
    this lab offers (api at least)."""
    if requested:
        return requested
    wanted = [course.tier, *(lesson.tier for lesson in course.lessons),
              *(ex.tier for ex in course.exercises())]
    offered = [t for t in wanted if t in tiers.REGISTRY and tiers.get(t).enabled] or [tiers.DEFAULT]
    return max(offered, key=lambda name: tiers.get(name).rank)


def needs_of(warnings: list[str]) -> list[str]:
    found = []
    for words, need in NEEDS:
        if any(words in warning for warning in warnings) and need not in found:
            found.append(need)
    return found


def _render_problems(course: Course) -> list[str]:
    problems = []
    for lesson in course.lessons:
        texts = [lesson.body, *(ex.goal for ex in lesson.exercises),
                 *(hint for ex in lesson.exercises for hint in ex.hints)]
        for text in texts:
            try:
                render_markdown(text)
            except Exception as exc:  # noqa: BLE001 - the page would be a 500: report it
                problems.append(f"{lesson.slug} does not render: {exc}")
                break
    return problems


def prove(report: ScenarioReport, course: Course, tier: str | None, log) -> ScenarioReport:
    """Fill in report for one imported (or found) course: validation, rendering, the run."""
    started = time.monotonic()
    report.course, report.tier = course.slug, tier_for(course, tier)
    report.problems += [str(p) for p in course.problems] + _render_problems(course)
    report.imported = not report.problems
    if not report.imported:
        report.reason = f"import: {report.problems[0]}"
        return report
    try:
        result = course_test.run(course, report.tier, log=lambda line: log(f"    {line}"))
    except Exception as exc:  # noqa: BLE001 - one scenario's crash is its reason, not the run's end
        report.reason = f"the run failed: {type(exc).__name__}: {exc}"
        report.seconds = time.monotonic() - started
        return report
    report.cluster = result.ran_on_cluster
    report.setups = [vars(s) for s in result.setups]
    report.exercises = [vars(e) for e in result.exercises]
    report.skipped = result.skipped
    report.ok = result.ok
    report.reason = _reason(result)
    report.seconds = time.monotonic() - started
    return report


def _reason(result) -> str:
    for setup in result.setups:
        if not setup.ok:
            # The line that explains, as a failing check's message is chosen.
            why = script_messages.failure_message(setup.tail, "", setup.exit_code)
            return f"setup of {setup.part} failed (exit {setup.exit_code}): {why}"
    for exercise in result.exercises:
        if not exercise.ok:
            return f"exercise {exercise.slug}: {exercise.problems[0][:300]}"
    return ""


def _imported(path: Path, out: Path) -> list[tuple[ScenarioReport, Course | None]]:
    """Each Killercoda scenario below path, imported into out."""
    from courses.importers import killercoda, writer

    plan = killercoda.read_source(path)
    found = [(ScenarioReport(name=label, problems=[message], reason=f"import: {message}"), None)
             for label, message in plan.errors]
    written = writer.write_all(plan.courses, out, None, set())
    for imported, course_dir in zip(plan.courses, written):
        report = ScenarioReport(name=imported.label, needs=needs_of(imported.warnings))
        found.append((report, load_course(course_dir)))
    return found


def run_all(path: Path, tier: str | None = None, match: str = "", log=print) -> list[ScenarioReport]:
    """Prove every course or scenario below path, one after another, each on its own sandbox."""
    path = Path(path)
    kind = source_kind(path)
    if kind is None:
        raise ValueError(f"{path}: no course (course.yaml) and no Killercoda scenario "
                         "(index.json) here")
    with tempfile.TemporaryDirectory(prefix="k8slab-corpus-") as tmp:
        if kind == "killercoda":
            found = _imported(path, Path(tmp))
        else:
            found = [(ScenarioReport(name=d.name), load_course(d)) for d in course_dirs([path])]
        found = [(r, c) for r, c in found if match in r.name]
        reports = []
        for number, (report, course) in enumerate(found, start=1):
            log(f"[{number}/{len(found)}] {report.name}")
            if course is not None:
                prove(report, course, tier, log)
            reports.append(report)
            log(f"    {'ok  ' if report.ok else 'FAIL'} {report.name} ({report.tier or '-'}, "
                f"{'on a fresh sandbox' if report.cluster else 'no cluster needed'}, "
                f"{report.seconds:.0f}s){': ' + report.reason if report.reason else ''}")
    return reports


def summary(reports: list[ScenarioReport]) -> dict:
    """Counts and pass rates: of all, and of those that need no internet."""
    def rate(items):
        passed = sum(1 for r in items if r.ok)
        return {"total": len(items), "passed": passed,
                "pass_rate": round(100 * passed / len(items), 1) if items else None}

    offline = [r for r in reports if "internet" not in r.needs]
    return {**rate(reports), "without_internet": rate(offline),
            "on_a_cluster": rate([r for r in reports if r.cluster])}


def as_json(path: Path, reports: list[ScenarioReport]) -> dict:
    return {"source": str(path), "summary": summary(reports),
            "scenarios": [asdict(r) for r in reports]}
