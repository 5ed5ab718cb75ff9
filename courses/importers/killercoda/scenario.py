"""One scenario's index.json as a course: its fields, and its intro, steps and finish as
lessons."""
from __future__ import annotations

import re
from pathlib import Path

from courses.importers.killercoda import markers
from courses.importers.killercoda.assets import read_assets
from courses.importers.killercoda.cleanup import (
    define_k,
    drop_background_waits,
    strip_ui_leftovers,
    uses_k_alias,
)
from courses.importers.killercoda.exercises import read_exercise
from courses.importers.killercoda.files import ScenarioError, ScenarioFiles, read_json
from courses.importers.killercoda.solution_text import fold_solutions, take_solutions
from courses.importers.killercoda.text import (
    clean_script,
    code_of,
    listing,
    missing_text,
    parse_minutes,
    run_first,
    summary,
)
from courses.importers.killercoda.tiers import choose_tier, read_backend
from courses.importers.model import ImportedCourse, ImportedLesson
from courses.importers.slugs import slugify, unique

TOP_FIELDS = {"title", "description", "details", "backend", "interface", "difficulty", "time"}
DETAILS_FIELDS = {"intro", "steps", "finish", "assets"}
PAGE_FIELDS = {"title", "text", "verify", "foreground", "background"}
# Katacoda's names for a page's scripts, which Killercoda still reads.
KATACODA_FIELDS = {"courseData": "background", "code": "foreground"}
SCRIPT_FIELDS = ("foreground", "background", "verify", *KATACODA_FIELDS)
TRAFFIC_MARKER = re.compile(r"\{\{\s*TRAFFIC_[A-Za-z0-9_]+\s*\}\}")


def read_scenario(folder: Path, label: str, tier: str | None = None) -> ImportedCourse:
    """The scenario in folder (which holds index.json) as a course; ScenarioError if index.json
    is not a JSON object."""
    return _Scenario(ScenarioFiles(folder, label), tier).read()


class _Scenario:
    def __init__(self, files: ScenarioFiles, tier: str | None):
        self.files = files
        self.warn = files.warn
        self.tier = tier  # the author's choice, or None for the one the scenario's needs pick
        self.lesson_slugs: set[str] = set()
        self.setup = ""  # the intro's background script: the course's setup
        self.page_code: list[tuple[str, str]] = []  # (page, the code in its text)
        self.page_text: list[tuple[str, str]] = []  # (page, its whole text)

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
        course.nodes = read_backend(self.files, data.get("backend"))
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
        course.setup = self.setup
        backend = data.get("backend")
        imageid = str(backend.get("imageid") or "") if isinstance(backend, dict) else ""
        scripts = [(where, text) for where, what, text in self.files.texts if what != "text"]
        course.tier = choose_tier(self.files, scripts + self.page_code, self.tier,
                                  cluster_image=imageid.startswith("kubernetes"),
                                  prose=self.page_text)
        if any(uses_k_alias(text) for _, text in scripts + self.page_code):
            self.warn("the scenario uses `k`, Killercoda's shorthand for kubectl: imported "
                      "scripts and solutions define it, but the lesson text still says `k`")
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
            if key not in PAGE_FIELDS and key not in KATACODA_FIELDS:
                self.warn(f"{where}: field '{key}' is not imported")
        title = spec.get("title")
        title = title.strip() if isinstance(title, str) and title.strip() else default_title
        what = "step" if required else where

        rel = spec.get("text")
        if rel is None:
            if required:
                self.warn(f"{where} has no text file; the lesson says the text is missing")
                source = missing_text(what, None)
            elif not any(spec.get(k) is not None for k in SCRIPT_FIELDS):
                return None
            else:
                source = ""
        else:
            source = self.files.read(rel, where, "text")
            if source is None:
                source = missing_text(what, rel if isinstance(rel, str) else None)
        scripts = self._scripts(spec, where)
        if where == "intro" and "background" in scripts:
            self._course_setup(*scripts.pop("background"))
        if rel is None and not required and not scripts and spec.get("verify") is None:
            return None  # an intro that only had a background script: the course's setup
        slug = unique(slugify(title) or slugify(where) or "lesson", self.lesson_slugs)
        converted = self._convert(source, where)
        lesson = ImportedLesson(slug=slug, title=title, body=converted.text)
        exercise = None
        if spec.get("verify") is not None:
            parts = take_solutions(converted.text)
            exercise = read_exercise(self.files, spec, where, slug, title, converted,
                                     parts.solutions, parts.hints)
            if exercise and (parts.solutions or parts.hints):
                lesson.body = parts.text
                self.warn(f"{where}: {len(parts.solutions)} solution(s) and {len(parts.hints)} "
                          "hint(s) in the text became the exercise's solution and hints, which "
                          "the lab shows on request")
        if exercise is None:
            lesson.body, folded = fold_solutions(converted.text)
            if folded:
                self.warn(f"{where}: {folded} Solution or Hint section(s) folded into <details>, "
                          "so they are not read first (the step has no exercise)")
        lesson.exercise = exercise
        if "foreground" in scripts:
            lesson.body = self._foreground(*scripts["foreground"], where, what) + lesson.body
        if "background" in scripts:
            name, script = scripts["background"]
            lesson.setup = define_k(clean_script(script))
            self.warn(f"{where}: the background script {name} became the lesson's setup; on "
                      "Killercoda it ran as root on the VM, so check that it works against the "
                      "lab's sandbox")
        if not lesson.body.strip():
            lesson.body = f"{title}.\n"
        return lesson

    def _scripts(self, spec: dict, where: str) -> dict[str, tuple[str, str]]:
        """{"foreground"/"background": (the file, quoted, script)} of a page, Katacoda's
        courseData and code read as its background and foreground; empty scripts left out."""
        scripts = {}
        for kind in ("foreground", "background"):
            legacy = next(k for k, v in KATACODA_FIELDS.items() if v == kind)
            rel, what = spec.get(kind), f"{kind} script"
            if rel is None and spec.get(legacy) is not None:
                rel, what = spec[legacy], f"{kind} script (Katacoda's {legacy})"
            elif spec.get(legacy) is not None:
                self.warn(f"{where}: both '{kind}' and Katacoda's '{legacy}' are given; "
                          f"'{legacy}' is not imported")
            if rel is None:
                continue
            script = self.files.read(rel, where, what)
            if script is not None and script.strip():
                self.files.mentions_root(script, f"the {where} {kind} script")
                # The file as warnings name it: 'env-init.sh' (Katacoda's courseData).
                named = f"'{rel}'" + (f" (Katacoda's {legacy})" if rel != spec.get(kind) else "")
                scripts[kind] = (named, script)
        return scripts

    def _course_setup(self, name: str, script: str) -> None:
        self.setup = define_k(clean_script(script))
        self.warn(f"intro: the background script {name} became the course's setup (course.yaml "
                  "`setup`), run once before the first lesson; on Killercoda it ran as root on "
                  "the VM, so check that it works against the lab's sandbox")

    def _foreground(self, name: str, script: str, where: str, what: str) -> str:
        script, waited = drop_background_waits(script)
        if waited and not script.strip():
            self.warn(f"{where}: the foreground script {name} only waits for the background "
                      "script, which the lab runs before the lesson opens; it is left out")
            return ""
        self.warn(f"{where}: the foreground script {name} is not typed into the terminal "
                  "automatically here; it is a runnable block at the top of the lesson"
                  + ("; its wait for the background script is left out" if waited else ""))
        return run_first(script, what)

    def _convert(self, source: str, where: str) -> markers.Converted:
        """The page's text as lesson Markdown, without Killercoda's page instructions."""
        self.files.mentions_root(source, f"the {where} text")
        cleaned = strip_ui_leftovers(source)
        if cleaned.removed:
            self.warn(f"{where}: instructions for Killercoda's page were taken out or replaced "
                      f"by the lab's: {listing(cleaned.removed)}")
        if cleaned.kept:
            self.warn(f"{where}: the text mentions {listing(cleaned.kept)}; left as written")
        converted = markers.convert(cleaned.text)
        for message in converted.warnings:
            self.warn(f"{where}: {message}")
        if converted.interrupts:
            self.warn(f"{where}: {converted.interrupts} command(s) were {{{{exec interrupt}}}}: "
                      "the Run button does not press Ctrl-C, so a comment line in each tells the "
                      "learner to press it first")
        code = code_of(converted.text) + "\n" + " ".join(TRAFFIC_MARKER.findall(source))
        self.page_code.append((where, code))
        self.page_text.append((where, converted.text))
        return converted
