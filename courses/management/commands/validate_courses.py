"""`manage.py validate_courses [PATH ...]`: every problem in the course files, as file:line."""
from pathlib import Path

from django.core.management.base import BaseCommand

from courses.validation import validate_paths


class Command(BaseCommand):
    help = "Check course files and list every problem with its file and line. Exit 1 on any."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", type=Path,
                            help="a course folder, or a folder of courses (default: COURSE_DIRS)")

    def handle(self, *args, paths, **options):
        courses, problems = validate_paths(paths or None)
        for problem in problems:
            self.stdout.write(str(problem))
        lessons = sum(len(c.lessons) for c in courses)
        exercises = sum(len(c.exercises()) for c in courses)
        summary = (f"{len(courses)} course(s), {lessons} lesson(s), {exercises} exercise(s): "
                   f"{len(problems)} problem(s)")
        if problems:
            self.stderr.write(self.style.ERROR(summary))
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS(summary))
