"""`manage.py import_killercoda SRC [--out DIR] [--slug SLUG] [--tier api|full]`: Killercoda
scenarios as courses.

SRC is a scenario folder (with index.json), or a folder whose structure.json lists several (each
becomes its own course; without structure.json, every scenario folder below SRC is imported).
Everything is read and mapped first; if any index.json or structure.json is broken, nothing is
written and the exit code is 1. Otherwise each course is written to DIR/<slug> (never over an
existing folder), checked with the same code as `validate_courses`, and every warning is printed
as `WARNING: <scenario>: <message>`. Exit 0 when at least one course was imported.

The tier is what each scenario needs (real containers, traffic, a node's shell: full; only API
objects: api); --tier is the author's choice over it, for every scenario of SRC.
"""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from courses.catalog import course_dirs
from courses.importers import killercoda, writer
from courses.importers.slugs import slugify
from courses.schema import TIERS
from courses.validation import validate_paths


class Command(BaseCommand):
    help = "Import Killercoda scenarios (index.json + markdown + bash) as courses."

    def add_arguments(self, parser):
        parser.add_argument("src", type=Path,
                            help="a scenario folder (index.json) or a folder with structure.json")
        parser.add_argument("--out", type=Path, default=None,
                            help="where the course folders go (default: the first COURSE_DIRS)")
        parser.add_argument("--slug", default=None,
                            help="the course's slug (a prefix when SRC holds several scenarios)")
        parser.add_argument("--tier", choices=TIERS, default=None,
                            help="the courses' tier (default: what each scenario needs)")

    def handle(self, *args, src, out, slug, tier=None, **options):
        out = Path(out or settings.COURSE_DIRS[0])
        if slug is not None:
            cleaned = slugify(slug)
            if not cleaned:
                return self._fail([("--slug", f"'{slug}' has no letters or digits to make a slug")])
            slug = cleaned

        plan = killercoda.read_source(src, tier=tier)
        if plan.errors:
            self._warnings(plan.all_warnings())
            return self._fail(plan.errors)
        if not plan.courses:
            self._warnings(plan.all_warnings())
            return self._fail([(str(src), "no scenario was imported")])

        taken = {d.name for d in course_dirs([Path(p) for p in settings.COURSE_DIRS])}
        written = writer.write_all(plan.courses, out, slug, taken)

        warnings = plan.all_warnings()
        self.stdout.write(f"Imported {len(written)} course(s) from {src} into {out}:")
        for course, path in zip(plan.courses, written):
            _, problems = validate_paths([path])
            warnings.extend((course.label, f"validate_courses: {p}") for p in problems)
            self.stdout.write(f"  {path.name} ({course.label}): {len(course.lessons)} lesson(s), "
                              f"{len(course.exercises())} exercise(s), {len(course.assets)} "
                              f"asset(s), tier {course.tier}")
        self._warnings(warnings)
        lessons = sum(len(c.lessons) for c in plan.courses)
        exercises = sum(len(c.exercises()) for c in plan.courses)
        self.stdout.write(self.style.SUCCESS(
            f"{len(written)} course(s), {lessons} lesson(s), {exercises} exercise(s), "
            f"{len(warnings)} warning(s)"))

    def _warnings(self, warnings):
        for label, message in warnings:
            self.stdout.write(f"WARNING: {label}: {message}")

    def _fail(self, errors):
        for label, message in errors:
            self.stderr.write(f"ERROR: {label}: {message}")
        self.stderr.write(self.style.ERROR("Nothing was written."))
        raise SystemExit(1)
