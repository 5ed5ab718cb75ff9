"""`manage.py grade --sandbox ID [--lesson SLUG] [--course SLUG] --json`: every check of the
sandbox's course (or one lesson), graded now against its cluster."""
import json

from django.core.management.base import BaseCommand, CommandError

from courses.catalog import get_course
from courses.grading.engine import grade_lesson
from sandboxes import tiers
from sandboxes.models import Sandbox


class Command(BaseCommand):
    help = "Grade a sandbox: one line (or JSON object) per check."

    def add_arguments(self, parser):
        parser.add_argument("--sandbox", required=True)
        parser.add_argument("--course", help="default: the course the sandbox was started for")
        parser.add_argument("--lesson")
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, sandbox, course, lesson, as_json, **options):
        found = Sandbox.objects.filter(pk=sandbox).first() if _is_uuid(sandbox) else None
        if found is None:
            raise CommandError(f"no sandbox {sandbox!r}")
        course_obj = get_course(course or found.course)
        if course_obj is None:
            raise CommandError("give --course: the sandbox was not started for a course")
        # Every lesson this sandbox can serve (a full cluster serves the api lessons too).
        lessons = [one for one in course_obj.lessons if tiers.satisfies(found.tier, one.tier) and one.exercises]
        if lesson:
            lessons = [one for one in course_obj.lessons if one.slug == lesson]
            if not lessons:
                raise CommandError(f"no lesson {lesson!r} in {course_obj.slug}")
        rows = []
        for lesson_obj in lessons:
            for result in grade_lesson(course_obj, lesson_obj, found.owner, sandbox=found, record=False):
                for check in result.checks:
                    rows.append({"lesson": lesson_obj.slug, "exercise": result.slug,
                                 "check": check.id, "passed": check.passed, "message": check.message})
        if as_json:
            self.stdout.write(json.dumps(rows, indent=2))
        else:
            for row in rows:
                mark = "PASS" if row["passed"] else "FAIL"
                self.stdout.write(f"{mark} {row['lesson']}/{row['exercise']}/{row['check']}: {row['message']}")


def _is_uuid(value: str) -> bool:
    import uuid
    try:
        uuid.UUID(value)
        return True
    except ValueError:
        return False
