"""Course files shared by the setup tests (tests/courses/test_lesson_setup.py and the browser's
tests/test_browser_lesson_setup.py)."""
from pathlib import Path

# A lesson whose setup fails the first time (with output on both streams) and works when run
# again: the page's "Run the setup again" has something to show.
FLAKY = """---
title: Flaky
setup: |
  if [ -f ~/tried ]; then echo fixed; exit 0; fi
  touch ~/tried
  echo "making the widgets"
  echo "widgets: no such thing" >&2
  exit 3
---
The widgets are made for you.
"""
FLAKY_TAIL = "making the widgets\nwidgets: no such thing"


def write_course(root: Path, slug: str, course_yaml: str, lessons: dict[str, str]) -> Path:
    """A course folder root/slug with course.yaml and lessons/NN-<slug>.md, in the given order."""
    course = root / slug
    (course / "lessons").mkdir(parents=True)
    (course / "course.yaml").write_text(course_yaml)
    for number, (lesson, text) in enumerate(lessons.items(), start=1):
        (course / "lessons" / f"{number:02d}-{lesson}.md").write_text(text)
    return course
