"""Validation of whole course trees, shared by `validate_courses`, the tests and live preview."""
from __future__ import annotations

from pathlib import Path

from courses.catalog import course_dirs, duplicate_slug_problems
from courses.course_files import Course, load_course
from courses.problems import Problem


def validate_paths(paths: list[Path] | None = None) -> tuple[list[Course], list[Problem]]:
    """Load every course under paths (default: settings.COURSE_DIRS) and gather its problems."""
    roots = [Path(p).resolve() for p in paths] if paths else None
    problems: list[Problem] = []
    courses: list[Course] = []
    dirs = course_dirs(roots)
    if roots is not None:
        for root in roots:
            if not root.exists():
                problems.append(Problem(root, 1, "no such file or folder"))
            elif not any(d == root or root in d.parents for d in dirs):
                problems.append(Problem(root, 1, "no course here (a course folder holds "
                                                 "course.yaml and lessons/)"))
    for course_dir in dirs:
        course = load_course(course_dir)
        courses.append(course)
        problems.extend(course.problems)
    problems.extend(duplicate_slug_problems(roots))
    return courses, problems
