"""Reads a course from its files (course.yaml + lessons/NN-<slug>.md) into plain objects.

Loading never raises for a mistake in the files: every problem is collected with its file and
line, so `validate_courses` can list them all and a page can show them instead of a 500.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from courses import schema
from courses.node_schema import CourseNode, check_nodes, parse_nodes
from courses.problems import Problem
from courses.yaml_lines import LineDict, YamlError, check_documents, load

FENCE_RE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*?)\s*$")


@dataclass
class CodeBlock:
    lang: str
    flags: tuple[str, ...]
    text: str
    line: int  # line of the opening fence in the lesson file


@dataclass
class Check:
    id: str
    kind: str
    title: str
    spec: dict


@dataclass
class Exercise:
    slug: str
    title: str
    goal: str
    tier: str
    checks: list[Check]
    hints: list[str]
    solution: dict
    lesson_slug: str = ""


@dataclass
class Lesson:
    slug: str
    path: Path
    title: str
    summary: str = ""
    minutes: int = 0
    objectives: list[str] = field(default_factory=list)
    tier: str = "api"
    gate: bool = False
    setup: str = ""
    body: str = ""
    body_line: int = 1  # file line where the markdown body starts
    exercises: list[Exercise] = field(default_factory=list)
    number: int = 0

    def code_blocks(self) -> list[CodeBlock]:
        return split_code_blocks(self.body, self.body_line)


@dataclass
class Course:
    slug: str
    path: Path
    title: str
    summary: str = ""
    description: str = ""
    level: str = ""
    tier: str = "api"
    contact: str = ""
    order: int = 100
    setup: str = ""  # bash, run once per sandbox before any lesson's own setup
    nodes: list[CourseNode] = field(default_factory=list)  # empty: the tier's own cluster
    lessons: list[Lesson] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def lesson(self, slug: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.slug == slug), None)

    def neighbours(self, slug: str) -> tuple[Lesson | None, Lesson | None]:
        slugs = [lesson.slug for lesson in self.lessons]
        i = slugs.index(slug)
        return (self.lessons[i - 1] if i > 0 else None,
                self.lessons[i + 1] if i + 1 < len(self.lessons) else None)

    def exercises(self) -> list[Exercise]:
        return [ex for lesson in self.lessons for ex in lesson.exercises]

    @property
    def minutes(self) -> int:
        return sum(lesson.minutes for lesson in self.lessons)


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """Returns (front matter text or None, body, 1-based line where the body starts)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None, text, 1
    for i in range(1, len(lines)):
        # Only an unindented marker ends the front matter: "---" inside an indented YAML block
        # (a setup script, say) is content.
        if lines[i].rstrip() in ("---", "..."):
            return "".join(lines[1:i]), "".join(lines[i + 1:]), i + 2
    return "".join(lines[1:]), "", len(lines) + 1


def split_code_blocks(body: str, first_line: int = 1) -> list[CodeBlock]:
    blocks: list[CodeBlock] = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE_RE.match(lines[i])
        if not m:
            i += 1
            continue
        fence = m.group("fence")
        words = m.group("info").strip("{} ").replace(".", " ").split()
        start = i
        i += 1
        content = []
        while i < len(lines) and not (lines[i].strip().startswith(fence[0] * len(fence))
                                      and set(lines[i].strip()) == {fence[0]}):
            content.append(lines[i])
            i += 1
        blocks.append(CodeBlock(lang=words[0].lower() if words else "", flags=tuple(words[1:]),
                                text="\n".join(content) + "\n", line=first_line + start))
        i += 1
    return blocks


def find_lesson_file(course_dir: Path, slug: str) -> Path | None:
    lessons_dir = course_dir / "lessons"
    for candidate in sorted(lessons_dir.glob(f"*{slug}.md")):
        if re.fullmatch(rf"(\d+-)?{re.escape(slug)}\.md", candidate.name):
            return candidate
    return None


def load_course(course_dir: Path) -> Course:
    course_dir = Path(course_dir)
    course_file = course_dir / "course.yaml"
    course = Course(slug=course_dir.name, path=course_dir, title=course_dir.name)
    collector = schema.Collector(course_file)
    if not schema.SLUG_RE.match(course.slug):
        collector.add(1, f"course folder name '{course.slug}' must be lowercase letters, digits "
                         "and dashes (it is the course's slug)")
    try:
        data = load(course_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        collector.add(1, "course.yaml is missing")
        course.problems = collector.problems
        return course
    except (YamlError, UnicodeDecodeError) as exc:
        collector.add(getattr(exc, "line", 1), getattr(exc, "message", str(exc)))
        course.problems = collector.problems
        return course
    schema.check_course(collector, data)
    if isinstance(data, LineDict) and isinstance(data.get("nodes"), list):
        check_nodes(collector, data["nodes"], data.line_of("nodes"))
    problems = list(collector.problems)
    if not isinstance(data, LineDict):
        course.problems = problems
        return course
    course.title = str(data.get("title") or course.slug)
    course.summary = str(data.get("summary") or "")
    course.description = str(data.get("description") or "")
    course.level = str(data.get("level") or "")
    course.tier = data.get("tier") if data.get("tier") in schema.TIERS else "api"
    course.contact = str(data.get("contact") or "")
    course.order = data.get("order") if isinstance(data.get("order"), int) else 100
    course.setup = data.get("setup") if isinstance(data.get("setup"), str) else ""
    course.nodes = parse_nodes(data.get("nodes"))

    listed = data.get("lessons") if isinstance(data.get("lessons"), list) else []
    slug_lines = {}
    for index, slug in enumerate(listed):
        if isinstance(slug, str) and slug not in slug_lines:
            slug_lines[slug] = listed.line_of_item(index) if hasattr(listed, "line_of_item") else 1
    listed_files: set[Path] = set()
    exercise_files: dict[str, Path] = {}
    for number, slug in enumerate(slug_lines, start=1):
        path = find_lesson_file(course_dir, slug)
        if path is None:
            problems.append(Problem(course_file, slug_lines[slug],
                                    f"lesson '{slug}' has no file lessons/NN-{slug}.md"))
            continue
        listed_files.add(path)
        lesson, lesson_problems = load_lesson(path, slug, course.tier)
        lesson.number = number
        problems.extend(lesson_problems)
        for exercise in lesson.exercises:
            if exercise.slug in exercise_files:
                problems.append(Problem(path, _exercise_line(path, exercise.slug),
                                        f"duplicate exercise slug '{exercise.slug}' (also in "
                                        f"{exercise_files[exercise.slug].name})"))
            else:
                exercise_files[exercise.slug] = path
        course.lessons.append(lesson)
    for stray in sorted((course_dir / "lessons").glob("*.md")):
        if stray not in listed_files:
            problems.append(Problem(stray, 1, "this lesson file is not listed in course.yaml's "
                                              "lessons, so no student will see it"))
    course.problems = problems
    return course


def _exercise_line(path: Path, slug: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if re.search(rf"slug:\s*['\"]?{re.escape(slug)}\b", line):
            return number
    return 1


def load_lesson(path: Path, slug: str, default_tier: str) -> tuple[Lesson, list[Problem]]:
    collector = schema.Collector(path)
    lesson = Lesson(slug=slug, path=path, title=slug.replace("-", " ").capitalize(),
                    tier=default_tier)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        collector.add(1, f"not UTF-8 text: {exc}")
        return lesson, collector.problems
    front, body, body_line = split_front_matter(text)
    lesson.body, lesson.body_line = body, body_line
    if front is None:
        collector.add(1, "a lesson starts with front matter: a '---' line, YAML with at least "
                         "'title:', and another '---' line")
    else:
        try:
            meta = load(front, first_line=2)
        except YamlError as exc:
            collector.add(exc.line, f"front matter is {exc.message}")
            meta = None
        if meta is not None or not collector.problems:
            schema.check_lesson(collector, meta, body_line)
        if isinstance(meta, LineDict):
            _apply_meta(lesson, meta, default_tier)
    for block in split_code_blocks(body, body_line):
        if block.lang in ("yaml", "yml"):
            try:
                check_documents(block.text, first_line=block.line + 1)
            except YamlError as exc:
                collector.add(exc.line, f"YAML code block does not parse: {exc.problem}")
    return lesson, collector.problems


def _apply_meta(lesson: Lesson, meta: LineDict, default_tier: str) -> None:
    lesson.title = str(meta.get("title") or lesson.title)
    lesson.summary = str(meta.get("summary") or "")
    lesson.minutes = meta.get("minutes") if isinstance(meta.get("minutes"), int) else 0
    objectives = meta.get("objectives")
    lesson.objectives = [str(o) for o in objectives] if isinstance(objectives, list) else []
    lesson.tier = meta.get("tier") if meta.get("tier") in schema.TIERS else default_tier
    lesson.gate = meta.get("gate") is True
    lesson.setup = str(meta.get("setup") or "")
    for raw in meta.get("exercises") or []:
        if not isinstance(raw, dict) or not isinstance(raw.get("slug"), str):
            continue
        checks = []
        for i, spec in enumerate(raw.get("checks") or []):
            if isinstance(spec, dict) and spec.get("kind") in schema.CHECK_KINDS:
                checks.append(Check(id=schema.default_check_id(spec, i), kind=spec["kind"],
                                    title=str(spec.get("title") or ""), spec=dict(spec)))
        hints = raw.get("hints")
        solution = raw.get("solution")
        lesson.exercises.append(Exercise(
            slug=raw["slug"], title=str(raw.get("title") or raw["slug"]),
            goal=str(raw.get("goal") or ""),
            tier=raw.get("tier") if raw.get("tier") in schema.TIERS else lesson.tier,
            checks=checks, hints=[str(h) for h in hints] if isinstance(hints, list) else [],
            solution=dict(solution) if isinstance(solution, dict) else {},
            lesson_slug=lesson.slug,
        ))
