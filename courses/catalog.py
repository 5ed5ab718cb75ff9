"""Finds the courses in settings.COURSE_DIRS and keeps each loaded until one of its files
changes, so an edited lesson shows on the next page load without a restart."""
from __future__ import annotations

import threading
from pathlib import Path

from django.conf import settings

from courses.course_files import Course, load_course
from courses.problems import Problem

_cache: dict[Path, tuple[tuple, Course]] = {}
_lock = threading.Lock()


def _signature(course_dir: Path) -> tuple:
    """What changes when an author edits the course: every file's path, mtime and size."""
    entries = []
    for path in [course_dir / "course.yaml", *sorted((course_dir / "lessons").glob("*.md"))]:
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        entries.append((str(path), st.st_mtime_ns, st.st_size))
    return tuple(entries)


def course_dirs(roots: list[Path] | None = None) -> list[Path]:
    found = []
    for root in roots if roots is not None else settings.COURSE_DIRS:
        root = Path(root)
        if (root / "course.yaml").is_file():
            found.append(root)
        elif root.is_dir():
            found.extend(d for d in sorted(root.iterdir()) if (d / "course.yaml").is_file())
    return found


def load_cached(course_dir: Path) -> Course:
    signature = _signature(course_dir)
    with _lock:
        hit = _cache.get(course_dir)
        if hit and hit[0] == signature:
            return hit[1]
    course = load_course(course_dir)
    with _lock:
        _cache[course_dir] = (signature, course)
    return course


def all_courses(roots: list[Path] | None = None) -> list[Course]:
    courses: dict[str, Course] = {}
    for course_dir in course_dirs(roots):
        course = load_cached(course_dir)
        courses.setdefault(course.slug, course)
    return sorted(courses.values(), key=lambda c: (c.order, c.title.lower()))


def get_course(slug: str) -> Course | None:
    return next((c for c in all_courses() if c.slug == slug), None)


def duplicate_slug_problems(roots: list[Path] | None = None) -> list[Problem]:
    seen: dict[str, Path] = {}
    problems = []
    for course_dir in course_dirs(roots):
        if course_dir.name in seen:
            problems.append(Problem(course_dir / "course.yaml", 1,
                                    f"duplicate course slug '{course_dir.name}' (also "
                                    f"{seen[course_dir.name]})"))
        else:
            seen[course_dir.name] = course_dir
    return problems


def version_of(course_slug: str) -> str | None:
    """A short fingerprint of a course's files: it changes whenever an author saves one."""
    import hashlib

    for course_dir in course_dirs():
        if course_dir.name == course_slug:
            return hashlib.sha256(repr(_signature(course_dir)).encode()).hexdigest()[:16]
    return None
