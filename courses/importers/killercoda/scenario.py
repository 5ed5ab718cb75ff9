"""One scenario's index.json as a course: its fields, and its intro, steps and finish as
lessons."""
from __future__ import annotations

from pathlib import Path

from courses.importers.killercoda import markers
from courses.importers.killercoda.assets import read_assets
from courses.importers.killercoda.exercises import read_exercise
from courses.importers.killercoda.files import ScenarioError, ScenarioFiles, read_json
from courses.importers.killercoda.text import (clean_script, listing, missing_text,
                                               parse_minutes, run_first, summary)
from courses.importers.killercoda.tiers import backend_tier
from courses.importers.model import ImportedCourse, ImportedLesson
from courses.importers.slugs import slugify, unique

TOP_FIELDS = {"title", "description", "details", "backend", "interface", "difficulty", "time"}
DETAILS_FIELDS = {"intro", "steps", "finish", "assets"}
PAGE_FIELDS = {"title", "text", "verify", "foreground", "background"}


def read_scenario(folder: Path, label: str, tier: str | None = None) -> ImportedCourse:
    """The scenario in folder (which holds index.json) as a course; ScenarioError if index.json
    is not a JSON object."""
    return _Scenario(ScenarioFiles(folder, label)).read()


class _Scenario:
    def __init__(self, files: ScenarioFiles):
        self.files = files
        self.warn = files.warn
        self.lesson_slugs: set[str] = set()

    def read(self) -> ImportedCourse:
        folder = self.files.folder
        index = folder / "index.json"
        data = read_json(index)
        if not isinstance(data, dict):
            raise ScenarioError(f"{index}: must be a JSON object with title and details")
        for key in data:
            if key not in TOP_FIELDS:
                self.warn(f"index.json field '{key}' is not imported")
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            title = folder.name.replace("-", " ").replace("_", " ").strip().capitalize() \
                or "Imported scenario"
            self.warn(f"index.json has no title; the course is called '{title}'")
        description = data.get("description")
        if description is not None and not isinstance(description, str):
            self.warn("index.json 'description' is not text; ignored")
            description = None
        course = ImportedCourse(
            label=self.files.label, source=folder, title=title.strip(),
            slug_hint=slugify(folder.name) or slugify(title) or "scenario",
            description=(description or "").strip(), summary=summary(description or ""),
            origin=f"Imported from the Killercoda scenario '{self.files.label}' by "
                   "`manage.py import_killercoda`.")
        difficulty = data.get("difficulty")
        if isinstance(difficulty, str) and difficulty.strip():
            course.level = difficulty.strip().capitalize()
        course.tier = backend_tier(self.files, data.get("backend"))
        self._interface(data.get("interface"))

        details = data.get("details")
        if details is None:
            details = {}
        if not isinstance(details, dict):
            self.warn("index.json 'details' is not an object; no intro, steps or finish imported")
            details = {}
        for key in details:
            if key not in DETAILS_FIELDS:
                self.warn(f"index.json field 'details.{key}' is not imported")

        intro = details.get("intro")
        if intro is not None:
            lesson = self._page(intro, "intro", "Introduction", required=False)
            if lesson:
                course.lessons.append(lesson)
        steps = details.get("steps")
        if not isinstance(steps, list) or not steps:
            self.warn("index.json has no steps (details.steps)")
            steps = []
        for number, step in enumerate(steps, start=1):
            lesson = self._page(step, f"step {number}", f"Step {number}", required=True)
            if lesson:
                course.lessons.append(lesson)
        finish = details.get("finish")
        if finish is not None:
            lesson = self._page(finish, "finish", "Finish", required=False)
            if lesson:
                course.lessons.append(lesson)
        if not course.lessons:
            course.lessons.append(ImportedLesson(
                slug="introduction", title=course.title,
                body=missing_text("scenario", "index.json details")))
            self.warn("the scenario has no intro, steps or finish; the course has one placeholder "
                      "lesson")
        if details.get("assets") is not None:
            course.assets = read_assets(self.files, details["assets"])
        if data.get("time") is not None:
            self._minutes(data["time"], course.lessons)
        if self.files.root_mentions:
            self.warn("'/root' (the learner's home on Killercoda) appears in "
                      f"{listing(self.files.root_mentions)}; here the learner's home is "
                      "elsewhere, so replace it with ~ or $HOME")
        course.warnings = self.files.warnings
        return course

    def _minutes(self, time, lessons: list[ImportedLesson]) -> None:
        """index.json's time ("15 minutes", "1 hour") shared out over the lessons."""
        total = parse_minutes(time)
        if total is None:
            self.warn(f"index.json 'time' {time!r} is not understood; lessons have no minutes")
            return
        base, extra = divmod(total, len(lessons))
        for i, lesson in enumerate(lessons):
            lesson.minutes = base + (1 if i < extra else 0)

    def _interface(self, interface) -> None:
        if interface is None:
            return
        if not isinstance(interface, dict):
            self.warn("index.json 'interface' is not an object; ignored")
            return
        for key in interface:
            if key != "layout":
                self.warn(f"index.json field 'interface.{key}' is not imported")
        layout = interface.get("layout")
        if layout == "ide":
            self.warn("interface.layout 'ide': the lab has no editor tab; the learner gets one "
                      "terminal (with vi or nano) beside the lesson")
        elif layout not in (None, "terminal"):
            self.warn(f"interface.layout '{layout}' is not supported; lessons show beside one "
                      "terminal")

    # pages: intro, steps, finish --------------------------------------------------------------

    def _page(self, spec, where: str, default_title: str, required: bool) -> ImportedLesson | None:
        if isinstance(spec, str) and not required:
            spec = {"text": spec}
        if not isinstance(spec, dict):
            self.warn(f"{where} is not an object; skipped")
            return None
        for key in spec:
            if key not in PAGE_FIELDS:
                self.warn(f"{where}: field '{key}' is not imported")
        title = spec.get("title")
        title = title.strip() if isinstance(title, str) and title.strip() else default_title
        slug = unique(slugify(title) or slugify(where) or "lesson", self.lesson_slugs)
        what = "step" if required else where

        rel = spec.get("text")
        if rel is None:
            if required:
                self.warn(f"{where} has no text file; the lesson says the text is missing")
                source = missing_text(what, None)
            elif not any(spec.get(k) for k in ("foreground", "background", "verify")):
                return None
            else:
                source = ""
        else:
            source = self.files.read(rel, where, "text")
            if source is None:
                source = missing_text(what, rel if isinstance(rel, str) else None)
        converted = markers.convert(source)
        self.files.mentions_root(source, f"the {where} text")
        for message in converted.warnings:
            self.warn(f"{where}: {message}")
        if converted.interrupts:
            self.warn(f"{where}: {converted.interrupts} command(s) were {{{{exec interrupt}}}}: "
                      "the Run button does not press Ctrl-C, so a comment line in each tells the "
                      "learner to press it first")
        body = converted.text

        lesson = ImportedLesson(slug=slug, title=title, body=body)
        if spec.get("foreground") is not None:
            script = self.files.read(spec["foreground"], where, "foreground script")
            if script is not None and script.strip():
                lesson.body = run_first(script, what) + body
                self.files.mentions_root(script, f"the {where} foreground script")
                self.warn(f"{where}: the foreground script '{spec['foreground']}' is not typed "
                          "into the terminal automatically here; it is a runnable block at the "
                          "top of the lesson")
        if spec.get("background") is not None:
            script = self.files.read(spec["background"], where, "background script")
            if script is not None and script.strip():
                lesson.setup = clean_script(script)
                self.files.mentions_root(script, f"the {where} background script")
                self.warn(f"{where}: the background script '{spec['background']}' became the "
                          "lesson's setup; on Killercoda it ran as root on the VM, so check that "
                          "it works against the lab's sandbox")
                if where == "intro":
                    self.warn("intro: on Killercoda the intro's background script prepares the "
                              "whole scenario; here it runs only when the learner opens the "
                              "intro lesson, and test_course (which runs the setup of lessons "
                              "with exercises) does not run it")
        if not lesson.body.strip():
            lesson.body = f"{title}.\n"
        if spec.get("verify") is not None:
            lesson.exercise = read_exercise(self.files, spec, where, slug, title, converted)
        return lesson
