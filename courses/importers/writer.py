"""Writes imported courses as course folders: course.yaml, lessons/NN-<slug>.md and assets/.

Each course is written into a hidden temporary folder next to its destination and renamed into
place when complete, so a half-written course never shows up in the catalog. An existing folder
is never overwritten: the slug gets -2, -3, ... instead.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

import yaml

from courses.importers.model import Asset, ImportedCourse, ImportedLesson
from courses.importers.slugs import slugify, unique


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line text (scripts stay readable) and no anchors or aliases."""

    def ignore_aliases(self, data):
        return True


def _str(dumper: yaml.SafeDumper, value: str):
    if "\n" in value and not _ends_front_matter(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    if "\n" in value:
        # A line that is only "---" or "..." would end a lesson's front matter early, even
        # indented in a block; a double-quoted scalar keeps the whole text on escaped lines.
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)


def _ends_front_matter(value: str) -> bool:
    return any(line.strip() in ("---", "...") for line in value.split("\n"))


def dump_yaml(data) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100000,
                     default_flow_style=False)


def assign_slugs(courses: list[ImportedCourse], out: Path, slug: str | None,
                 taken: set[str]) -> list[str]:
    """A slug per course: --slug for one course (a prefix for several), else from the scenario;
    never one in taken (folders that exist already), nor twice."""
    taken = set(taken)
    if out.is_dir():
        taken.update(p.name for p in out.iterdir())
    slugs = []
    for course in courses:
        base = course.slug_hint
        if slug:
            base = slug if len(courses) == 1 else slugify(f"{slug}-{course.slug_hint}")
        slugs.append(unique(base or "scenario", taken))
    return slugs


def course_yaml(course: ImportedCourse) -> str:
    data = {"title": course.title}
    for key in ("summary", "description", "level"):
        if getattr(course, key):
            data[key] = getattr(course, key)
    data["tier"] = course.tier
    if course.nodes:
        data["nodes"] = [_node(node) for node in course.nodes]
    if course.setup:
        data["setup"] = course.setup
    data["lessons"] = [lesson.slug for lesson in course.lessons]
    origin = " ".join(course.origin.split())  # one comment line, whatever the importer wrote
    return (f"# {origin}\n" if origin else "") + dump_yaml(data)


def _node(node) -> dict:
    data: dict = {"name": node.name, "role": node.role}
    if node.labels:
        data["labels"] = dict(node.labels)
    if node.taints:
        data["taints"] = [dict(taint) for taint in node.taints]
    return data


def lesson_markdown(lesson: ImportedLesson) -> str:
    front: dict = {"title": lesson.title}
    if lesson.minutes > 0:
        front["minutes"] = lesson.minutes
    if lesson.setup:
        front["setup"] = lesson.setup
    ex = lesson.exercise
    if ex:
        exercise = {
            "slug": ex.slug,
            "title": ex.title,
            "goal": ex.goal,
            "checks": [{"kind": "script", "id": "verify", "title": "The step's task is done",
                        "script": ex.script}],
        }
        if ex.timeout:
            exercise["checks"][0]["timeout"] = ex.timeout
        if ex.hints:
            exercise["hints"] = list(ex.hints)
        exercise["solution"] = {"commands": ex.commands, "explanation": ex.explanation}
        front["exercises"] = [exercise]
    return f"---\n{dump_yaml(front)}---\n\n{lesson.body.lstrip()}"


def lesson_file_names(course: ImportedCourse) -> list[str]:
    width = max(2, len(str(len(course.lessons))))
    return [f"{n:0{width}d}-{lesson.slug}.md" for n, lesson in enumerate(course.lessons, start=1)]


def write_course(course: ImportedCourse, dest: Path) -> Path:
    """Writes the course to dest (which must not exist yet); returns dest."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".import-{dest.name}-", dir=dest.parent))
    try:
        (work / "lessons").mkdir()
        for name, lesson in zip(lesson_file_names(course), course.lessons):
            (work / "lessons" / name).write_text(lesson_markdown(lesson), encoding="utf-8")
        for asset in course.assets:
            _copy_asset(asset, work / "assets")
        # course.yaml last: only a complete folder looks like a course.
        (work / "course.yaml").write_text(course_yaml(course), encoding="utf-8")
        os.chmod(work, 0o755)
        os.rename(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return dest


def write_all(courses: list[ImportedCourse], out: Path, slug: str | None = None,
              taken: set[str] = frozenset()) -> list[Path]:
    out = Path(out)
    slugs = assign_slugs(courses, out, slug, set(taken))
    return [write_course(course, out / s) for course, s in zip(courses, slugs)]


def _copy_asset(asset: Asset, assets_dir: Path) -> None:
    target = assets_dir.joinpath(*asset.dest.parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(asset.source, target)
    mode = 0o644 | (0o111 if os.stat(asset.source).st_mode & stat.S_IXUSR else 0)
    os.chmod(target, apply_chmod(mode, asset.chmod) if asset.chmod else mode)


_WHO = {"u": 0o700, "g": 0o070, "o": 0o007}
_WHAT = {"r": 0o444, "w": 0o222, "x": 0o111, "X": 0o111, "s": 0o6000, "t": 0o1000}


def apply_chmod(mode: int, spec: str) -> int:
    """chmod's octal (755) or symbolic (+x, u+rw,go-w) form applied to mode (no umask: a bare
    +w is a+w)."""
    spec = spec.strip()
    if re.fullmatch(r"[0-7]{3,4}", spec):
        return int(spec, 8)
    for clause in spec.split(","):
        m = re.fullmatch(r"([ugoa]*)([-+=])([rwxXst]*)", clause)
        if not m:
            continue
        letters = m.group(1) or "a"
        who = 0o777 if "a" in letters else sum(_WHO[c] for c in set(letters))
        bits = 0
        for c in set(m.group(3)):
            bits |= _WHAT[c] & (who | 0o7000) if c in "st" else _WHAT[c] & who
        if m.group(2) == "+":
            mode |= bits
        elif m.group(2) == "-":
            mode &= ~bits
        else:
            mode = (mode & ~who) | bits
    return mode
