"""`manage.py test_course SLUG [--tier api|full] [--json]`: every exercise fails before its
solution and passes after it, on a fresh sandbox, the course's setup and each lesson's run
first. Exit 1 if any does not.

`manage.py test_course --all DIR [--tier ...] [--match TEXT] [--json]`: the same for every course
below DIR, or every Killercoda scenario there (imported into a temporary folder first), with a
report per scenario (import, setup, fail-before, pass-after, the reason when one fails) and the
pass rate. Exit 1 if any does not pass."""
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from courses.catalog import get_course
from courses.grading import corpus_test, course_test
from courses.validation import validate_paths
from sandboxes import tiers


class Command(BaseCommand):
    help = "Prove each exercise of a course fails unsolved and passes solved, on a real sandbox."

    def add_arguments(self, parser):
        parser.add_argument("course", nargs="?", help="the course's slug (or use --all DIR)")
        parser.add_argument("--all", type=Path, default=None, dest="all_in",
                            help="every course, or Killercoda scenario, below this folder")
        parser.add_argument("--match", default="",
                            help="with --all: only the scenarios whose path contains this")
        parser.add_argument("--tier", choices=tiers.ORDER, default=None,
                            help="the sandbox's tier (default: the lab's first, or with --all "
                                 "what each course needs, of the tiers this lab offers)")
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, course, all_in, match, tier, as_json, **options):
        if all_in is not None:
            if course:
                raise CommandError("give a course's slug or --all DIR, not both")
            return self._all(all_in, tier, match, as_json)
        if not course:
            raise CommandError("give a course's slug, or --all DIR")
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
        report = course_test.run(found, tier or tiers.DEFAULT, log=log)
        if as_json:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            if report.skipped:
                self.stdout.write(f"skipped (needs another tier): {', '.join(report.skipped)}")
            failed_setups = [s.part for s in report.setups if not s.ok]
            if failed_setups:
                self.stdout.write(f"setup failed: {', '.join(failed_setups)}")
            passed = sum(1 for e in report.exercises if e.ok)
            self.stdout.write(f"{passed} passed, {len(report.exercises) - passed} failed")
        if not report.ok:
            raise SystemExit(1)

    def _all(self, source: Path, tier, match: str, as_json: bool):
        if corpus_test.source_kind(source) is None:
            raise CommandError(f"{source}: no course (course.yaml) and no Killercoda scenario "
                               "(index.json) here")
        # With --json the progress goes to stderr, so stdout is the JSON alone.
        log = self.stderr.write if as_json else self.stdout.write
        reports = corpus_test.run_all(source, tier, match, log=log)
        if as_json:
            self.stdout.write(json.dumps(corpus_test.as_json(source, reports), indent=2))
        else:
            counts = corpus_test.summary(reports)
            offline = counts["without_internet"]
            self.stdout.write(f"{counts['passed']} of {counts['total']} passed "
                              f"({counts['pass_rate']} %); of those that need no internet "
                              f"{offline['passed']} of {offline['total']} ({offline['pass_rate']} %)")
        if not all(r.ok for r in reports):
            raise SystemExit(1)
