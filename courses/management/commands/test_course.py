"""`manage.py test_course SLUG [--tier api|full]`: every exercise fails before its solution and
passes after it, on a fresh sandbox. Exit 1 if any does not."""
import json

from django.core.management.base import BaseCommand, CommandError

from courses.catalog import get_course
from courses.grading import course_test
from courses.validation import validate_paths
from sandboxes import tiers


class Command(BaseCommand):
    help = "Prove each exercise of a course fails unsolved and passes solved, on a real sandbox."

    def add_arguments(self, parser):
        parser.add_argument("course")
        parser.add_argument("--tier", choices=tiers.ORDER, default=tiers.DEFAULT)
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, course, tier, as_json, **options):
        found = get_course(course)
        if found is None:
            raise CommandError(f"no course {course!r}")
        _, problems = validate_paths([found.path])
        if problems:
            for problem in problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{course} has {len(problems)} problem(s); fix them first "
                               "(validate_courses)")
        log = (lambda line: None) if as_json else self.stdout.write
        report = course_test.run(found, tier, log=log)
        if as_json:
            self.stdout.write(json.dumps({
                "course": report.course, "tier": report.tier, "ok": report.ok,
                "sandbox_seconds": round(report.sandbox_seconds, 2), "skipped": report.skipped,
                "exercises": [vars(e) for e in report.exercises]}, indent=2))
        else:
            if report.skipped:
                self.stdout.write(f"skipped (needs another tier): {', '.join(report.skipped)}")
            passed = sum(1 for e in report.exercises if e.ok)
            self.stdout.write(f"{passed} passed, {len(report.exercises) - passed} failed")
        if not report.ok:
            raise SystemExit(1)
