"""The imported course, whatever it came from: the plain objects an importer fills in and
`courses.importers.writer` writes as course folders.

Nothing here knows any source format. An importer reads its source into an ImportPlan (courses,
warnings, errors) and never writes; the writer turns each ImportedCourse into course.yaml and
lessons/NN-<slug>.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from courses.node_schema import CourseNode


@dataclass
class ImportedExercise:
    slug: str
    title: str
    goal: str
    script: str  # one `script` check: bash, exit 0 passes
    commands: str  # the solution's commands
    explanation: str  # the solution's words
    hints: list[str] = field(default_factory=list)
    timeout: int | None = None  # seconds the check's script may take (None: the lab's default)


@dataclass
class ImportedLesson:
    slug: str
    title: str
    body: str
    setup: str = ""
    minutes: int = 0
    exercise: ImportedExercise | None = None


@dataclass
class Asset:
    source: Path
    dest: PurePosixPath  # relative to <course>/assets/ (and so to the learner's home)
    chmod: str = ""


@dataclass
class ImportedCourse:
    label: str  # the source, as warnings name it
    source: Path
    slug_hint: str
    title: str
    summary: str = ""
    description: str = ""
    level: str = ""
    tier: str = "api"
    setup: str = ""  # course-level setup: run once before any lesson's own setup
    nodes: list[CourseNode] = field(default_factory=list)  # course.yaml's nodes
    lessons: list[ImportedLesson] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    origin: str = ""  # where it came from: course.yaml's first line, as a comment

    def exercises(self) -> list[ImportedExercise]:
        return [lesson.exercise for lesson in self.lessons if lesson.exercise]


@dataclass
class ImportPlan:
    courses: list[ImportedCourse] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (source, message)
    errors: list[tuple[str, str]] = field(default_factory=list)  # any error: nothing is written

    def all_warnings(self) -> list[tuple[str, str]]:
        return self.warnings + [(c.label, w) for c in self.courses for w in c.warnings]
