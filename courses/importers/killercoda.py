"""Reads Killercoda scenarios (index.json + markdown + bash) into in-memory courses.

Nothing here writes files: `read_source` returns an ImportPlan (courses, warnings, errors) and
`courses.importers.writer` turns its courses into course folders. Nothing is read outside the
source folder: every path a scenario names is resolved (symbolic links included) and refused
when it lands outside the scenario's own folder.

index.json, field by field:
  title                    -> course title (missing: the folder name, with a warning)
  description              -> course description; its first paragraph -> summary
  difficulty (Katacoda)    -> course level
  time ("15 minutes")      -> lesson minutes, shared out evenly over the lessons
  backend.imageid          -> course tier: kubernetes-kubeadm-1node(-*) -> full;
                              kubernetes-*2nodes* -> full (warning: one node);
                              kubernetes-k3s* -> full (warning: kind, not k3s);
                              ubuntu(*) -> api (warning: a shell and an API cluster, no root VM);
                              missing -> api; anything else -> a warning
  interface.layout         -> a warning unless it is "terminal" (the lab has one terminal, no IDE)
  details.intro            -> the first lesson; details.finish -> the last lesson
  details.steps[]          -> one lesson each, titled by the step's title ("Step N" without one)
    text                   -> the lesson body (markers converted by courses.importers.markdown);
                              missing, unreadable or outside: a placeholder paragraph + a warning
    verify                 -> an exercise with one `script` check (timeout 15 s); its solution is
                              the step folder's solution.sh / solution.md, else the step's
                              {{exec}} code, else an explanation only (with a warning)
    background             -> the lesson's `setup` script
    foreground             -> a "Run this first" runnable block at the top (not typed for you)
  details.assets.host01[]  -> files from the scenario's assets/ folder, for <course>/assets/ at
                              their path below the learner's home (/root/x -> x; a target
                              outside the home, /opt/x -> opt/x, with a warning); chmod applied
  details.assets.<other>   -> a warning (the lab has one machine)
  anything else            -> a warning naming it, never a crash
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from courses.course_files import split_code_blocks
from courses.importers import markdown
from courses.importers.slugs import slugify, unique

VERIFY_TIMEOUT = 15  # Killercoda gives a verify script about 15 s
TOP_FIELDS = {"title", "description", "details", "backend", "interface", "difficulty", "time"}
DETAILS_FIELDS = {"intro", "steps", "finish", "assets"}
PAGE_FIELDS = {"title", "text", "verify", "foreground", "background"}
ASSET_FIELDS = {"file", "target", "chmod"}
CHMOD_RE = re.compile(r"^(?:[0-7]{3,4}|[ugoa]*[-+=][rwxXst]*(?:,[ugoa]*[-+=][rwxXst]*)*)$")
HOME_PREFIXES = ("~", "/root", "$HOME", "${HOME}")
MAX_NESTING = 3
ROOT_PATH = re.compile(r"(?<![\w/.$-])/root(?![\w.-])")
SHELL_LANGS = {"", "bash", "sh", "shell", "console", "plain", "text"}
# Commands that run until interrupted: typed by test_course they would never finish.
ENDLESS = re.compile(
    r"^\s*(watch\b|.*\bkubectl\s+(proxy|port-forward)\b|.*\bkubectl\b.*\s(-w|--watch)(=\S+)?(\s|$)"
    r"|.*\bkubectl\b.*\blogs\b.*\s(-f|--follow)(\s|$)|.*\btail\s+(-\w*[fF])\b)")


class ScenarioError(Exception):
    """A scenario that cannot be imported at all (its index.json does not parse)."""


@dataclass
class ImportedExercise:
    slug: str
    title: str
    goal: str
    script: str
    commands: str
    explanation: str


@dataclass
class ImportedLesson:
    slug: str
    title: str
    body: str
    setup: str = ""
    minutes: int = 0
    exercise: ImportedExercise | None = None


@dataclass
class Asset:
    source: Path
    dest: PurePosixPath  # relative to <course>/assets/ (and so to the learner's home)
    chmod: str = ""


@dataclass
class ImportedCourse:
    label: str  # the scenario, as warnings name it
    source: Path
    slug_hint: str
    title: str
    summary: str = ""
    description: str = ""
    level: str = ""
    tier: str = "api"
    lessons: list[ImportedLesson] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def exercises(self) -> list[ImportedExercise]:
        return [lesson.exercise for lesson in self.lessons if lesson.exercise]


@dataclass
class ImportPlan:
    courses: list[ImportedCourse] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (scenario, message)
    errors: list[tuple[str, str]] = field(default_factory=list)  # any error: nothing is written

    def all_warnings(self) -> list[tuple[str, str]]:
        return self.warnings + [(c.label, w) for c in self.courses for w in c.warnings]


# Paths ------------------------------------------------------------------------------------------

def inside(base: Path, rel) -> Path | None:
    """base/rel when it stays inside base once resolved (links followed), else None."""
    if not isinstance(rel, str) or not rel.strip() or "\0" in rel:
        return None
    if PurePosixPath(rel).is_absolute() or rel.startswith("~"):
        return None
    real_base = os.path.realpath(base)
    real = os.path.realpath(os.path.join(real_base, rel))
    if real != real_base and not real.startswith(real_base.rstrip(os.sep) + os.sep):
        return None
    return Path(real)


def read_json(path: Path):
    """The parsed file; ScenarioError naming the file and the position of a JSON mistake."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg} "
                            f"(line {exc.lineno}, column {exc.colno})") from None


# The source: one scenario, a structure.json, or a folder of scenarios ---------------------------

def read_source(src: Path) -> ImportPlan:
    plan = ImportPlan()
    src = Path(src)
    if src.is_file() and src.name == "index.json":
        src = src.parent
    if not src.is_dir():
        plan.errors.append((str(src), "no such folder (give a scenario folder with index.json, "
                                      "or a folder with structure.json)"))
        return plan
    root = Path(os.path.realpath(src))
    label = root.name or "scenario"
    if (root / "index.json").is_file():
        found = [(label, root)]
    elif (root / "structure.json").is_file():
        found = _structure(root, root, plan, 0)
    else:
        found = _scan(root, root)
        if found:
            plan.warnings.append((label, f"no index.json or structure.json here: importing the "
                                         f"{len(found)} scenario folder(s) found below, in name "
                                         "order"))
        else:
            plan.errors.append((label, f"{root}: no index.json or structure.json, and no "
                                       "scenario folder below it"))
    for scenario_label, folder in found:
        try:
            plan.courses.append(read_scenario(folder, scenario_label))
        except ScenarioError as exc:
            plan.errors.append((scenario_label, str(exc)))
    return plan


def _structure(root: Path, folder: Path, plan: ImportPlan, depth: int) -> list[tuple[str, Path]]:
    path = folder / "structure.json"
    where = str(path.relative_to(root)) if path != root / "structure.json" else "structure.json"
    try:
        data = read_json(path)
    except ScenarioError as exc:
        plan.errors.append((root.name, str(exc)))
        return []
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        plan.errors.append((root.name, f"{path}: must be an object with an 'items' list"))
        return []
    found: list[tuple[str, Path]] = []
    for number, item in enumerate(items, start=1):
        rel = item.get("path") if isinstance(item, dict) else None
        if not isinstance(rel, str) or not rel.strip():
            plan.warnings.append((root.name, f"{where}: item #{number} has no 'path'; skipped"))
            continue
        rel_to_root = os.path.relpath(os.path.join(folder, rel), root)
        label = PurePosixPath(rel_to_root).as_posix()
        target = inside(root, rel_to_root)
        if target is None:
            plan.warnings.append((rel, f"{where} lists '{rel}', which is outside "
                                       f"{root}; refused (nothing outside the source is read)"))
        elif not target.is_dir():
            plan.warnings.append((rel, f"listed in {where} but there is no such folder; "
                                       "skipped (the others are imported)"))
        elif (target / "index.json").is_file():
            found.append((label.rstrip("/"), target))
        elif (target / "structure.json").is_file() and depth < MAX_NESTING:
            found.extend(_structure(root, target, plan, depth + 1))
        else:
            plan.warnings.append((rel, f"listed in {where} but it has no index.json; skipped"))
    return found


def _scan(root: Path, folder: Path, depth: int = 0) -> list[tuple[str, Path]]:
    found = []
    for child in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if inside(root, os.path.relpath(child, root)) is None:
            continue
        if (child / "index.json").is_file():
            found.append((str(PurePosixPath(os.path.relpath(child, root))), child))
        elif depth < MAX_NESTING:
            found.extend(_scan(root, child, depth + 1))
    return found


# One scenario -----------------------------------------------------------------------------------

def read_scenario(folder: Path, label: str) -> ImportedCourse:
    """The scenario in folder (which holds index.json) as a course; ScenarioError if index.json
    is not a JSON object."""
    return _Scenario(Path(folder), label).read()


class _Scenario:
    def __init__(self, folder: Path, label: str):
        self.folder = folder
        self.label = label
        self.warnings: list[str] = []
        self.lesson_slugs: set[str] = set()
        self.root_mentions: list[str] = []  # where '/root' (Killercoda's home) appears

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def read(self) -> ImportedCourse:
        index = self.folder / "index.json"
        data = read_json(index)
        if not isinstance(data, dict):
            raise ScenarioError(f"{index}: must be a JSON object with title and details")
        for key in data:
            if key not in TOP_FIELDS:
                self.warn(f"index.json field '{key}' is not imported")
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            title = self.folder.name.replace("-", " ").replace("_", " ").strip().capitalize() \
                or "Imported scenario"
            self.warn(f"index.json has no title; the course is called '{title}'")
        description = data.get("description")
        if description is not None and not isinstance(description, str):
            self.warn("index.json 'description' is not text; ignored")
            description = None
        course = ImportedCourse(label=self.label, source=self.folder, title=title.strip(),
                                slug_hint=slugify(self.folder.name) or slugify(title) or "scenario",
                                description=(description or "").strip(),
                                summary=_summary(description or ""))
        difficulty = data.get("difficulty")
        if isinstance(difficulty, str) and difficulty.strip():
            course.level = difficulty.strip().capitalize()
        course.tier = self._tier(data.get("backend"))
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
                body=_missing_text("scenario", "index.json details")))
            self.warn("the scenario has no intro, steps or finish; the course has one placeholder "
                      "lesson")
        if details.get("assets") is not None:
            course.assets = self._assets(details["assets"])
        if data.get("time") is not None:
            self._minutes(data["time"], course.lessons)
        if self.root_mentions:
            self.warn("'/root' (the learner's home on Killercoda) appears in "
                      f"{_listing(self.root_mentions)}; here the learner's home is elsewhere, "
                      "so replace it with ~ or $HOME")
        course.warnings = self.warnings
        return course

    def _minutes(self, time, lessons: list[ImportedLesson]) -> None:
        """index.json's time ("15 minutes", "1 hour") shared out over the lessons."""
        total = _parse_minutes(time)
        if total is None:
            self.warn(f"index.json 'time' {time!r} is not understood; lessons have no minutes")
            return
        base, extra = divmod(total, len(lessons))
        for i, lesson in enumerate(lessons):
            lesson.minutes = base + (1 if i < extra else 0)

    def _mentions_root(self, text: str, place: str) -> None:
        if ROOT_PATH.search(text) and place not in self.root_mentions:
            self.root_mentions.append(place)

    # backend and interface ------------------------------------------------------------------

    def _tier(self, backend) -> str:
        if backend is None:
            return "api"
        if not isinstance(backend, dict):
            self.warn("index.json 'backend' is not an object; the course uses tier api")
            return "api"
        for key in backend:
            if key != "imageid":
                self.warn(f"index.json field 'backend.{key}' is not imported")
        imageid = backend.get("imageid")
        if imageid is None:
            return "api"
        name = str(imageid)
        if name == "kubernetes-kubeadm-1node":
            return "full"
        if name.startswith("kubernetes-") and "2nodes" in name:
            self.warn(f"backend.imageid '{name}': the lab's full tier is a single-node cluster, "
                      "so steps that use the second node (node01) will not work; the course uses "
                      "tier full")
            return "full"
        if name.startswith("kubernetes-kubeadm-1node"):
            return "full"  # -rapid, -ubuntu20.04, ...: the same single-node kubeadm cluster
        if name.startswith("kubernetes-k3s"):
            self.warn(f"backend.imageid '{name}': the lab's full tier is a kind (kubeadm) "
                      "cluster, not k3s, so k3s specifics (its config files, Traefik, local-path "
                      "storage) are missing; the course uses tier full")
            return "full"
        if name.split(":")[0].split("-")[0] == "ubuntu":
            self.warn(f"backend.imageid '{name}': the lab has no full VM; the learner gets a shell "
                      "and a Kubernetes API cluster (tier api), not a root VM, so steps that need "
                      "root, apt or systemd will not work")
            return "api"
        if name.startswith("kubernetes"):
            self.warn(f"backend.imageid '{name}' is not known; the course uses tier full "
                      "(a single-node cluster)")
            return "full"
        self.warn(f"backend.imageid '{name}' is not known; the course uses tier api (a shell "
                  "and a Kubernetes API cluster)")
        return "api"

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

    # files ------------------------------------------------------------------------------------

    def _read(self, rel, where: str, what: str) -> str | None:
        """A text file of the scenario, or None with a warning saying why."""
        if not isinstance(rel, str) or not rel.strip():
            self.warn(f"{where}: the {what} must be a file path; ignored")
            return None
        path = inside(self.folder, rel)
        if path is None:
            self.warn(f"{where}: the {what} '{rel}' is outside the scenario folder; refused "
                      "(nothing outside the scenario is read)")
            return None
        if not path.is_file():
            self.warn(f"{where}: the {what} '{rel}' does not exist")
            return None
        try:
            return path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
        except UnicodeDecodeError:
            self.warn(f"{where}: the {what} '{rel}' is not UTF-8 text; it cannot be read")
        except OSError as exc:
            self.warn(f"{where}: the {what} '{rel}' cannot be read ({exc.strerror or exc})")
        return None

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
                source = _missing_text(what, None)
            elif not any(spec.get(k) for k in ("foreground", "background", "verify")):
                return None
            else:
                source = ""
        else:
            source = self._read(rel, where, "text")
            if source is None:
                source = _missing_text(what, rel if isinstance(rel, str) else None)
        converted = markdown.convert(source)
        self._mentions_root(source, f"the {where} text")
        for message in converted.warnings:
            self.warn(f"{where}: {message}")
        if converted.interrupts:
            self.warn(f"{where}: {converted.interrupts} command(s) were {{{{exec interrupt}}}}: "
                      "the Run button does not press Ctrl-C, so a comment line in each tells the "
                      "learner to press it first")
        body = converted.text

        lesson = ImportedLesson(slug=slug, title=title, body=body)
        if spec.get("foreground") is not None:
            script = self._read(spec["foreground"], where, "foreground script")
            if script is not None and script.strip():
                lesson.body = _run_first(script, what) + body
                self._mentions_root(script, f"the {where} foreground script")
                self.warn(f"{where}: the foreground script '{spec['foreground']}' is not typed "
                          "into the terminal automatically here; it is a runnable block at the "
                          "top of the lesson")
        if spec.get("background") is not None:
            script = self._read(spec["background"], where, "background script")
            if script is not None and script.strip():
                lesson.setup = _clean_script(script)
                self._mentions_root(script, f"the {where} background script")
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
            lesson.exercise = self._exercise(spec, where, slug, title, converted)
        return lesson

    def _exercise(self, spec: dict, where: str, slug: str, title: str,
                  converted: markdown.Converted) -> ImportedExercise | None:
        script = self._read(spec["verify"], where, "verify script")
        if script is None:
            self.warn(f"{where}: no exercise, because its verify script could not be read")
            return None
        if not script.strip():
            self.warn(f"{where}: the verify script '{spec['verify']}' is empty; no exercise")
            return None
        self._mentions_root(script, f"the {where} verify script")
        commands, explanation = self._solution(spec, where, converted)
        return ImportedExercise(
            slug=slug, title=title,
            goal=f"Complete the task of this step: {title}.",
            script=_clean_script(script, keep_shebang=True),
            commands=commands, explanation=explanation)

    def _solution(self, spec: dict, where: str, converted: markdown.Converted) -> tuple[str, str]:
        """(commands, explanation): the step folder's solution.sh or solution.md, else the step's
        runnable code, else an explanation only (with a warning)."""
        folders = []
        for key in ("text", "verify"):
            rel = spec.get(key)
            if isinstance(rel, str):
                parent = str(PurePosixPath(rel).parent)
                if parent not in (".", "") and parent not in folders:
                    folders.append(parent)
        script_text = notes = None
        found = []
        for folder in folders:
            for name in ("solution.sh", "solution.md"):
                path = inside(self.folder, f"{folder}/{name}")
                if path is None or not path.is_file():
                    continue
                text = self._read(f"{folder}/{name}", where, "solution")
                if text is None:
                    continue
                found.append(f"{folder}/{name}")
                if name == "solution.sh" and script_text is None:
                    script_text = text
                elif name == "solution.md" and notes is None:
                    notes = text
            if found:
                break
        if script_text is not None and script_text.strip():
            explanation = _prose(notes) if notes else ""
            return (_clean_script(script_text),
                    explanation or f"The scenario's solution ({found[0]}).")
        if notes is not None:
            commands = _md_commands(notes)
            if commands:
                return commands, _prose(notes) or f"The scenario's solution ({found[0]})."
        runnable = []
        for command in converted.commands:
            if ENDLESS.match(command.split("\n")[0]):
                self.warn(f"{where}: '{command.splitlines()[0]}' runs until interrupted, so it "
                          "is left out of the exercise's solution")
            else:
                runnable.append(command)
        if runnable:
            return ("\n".join(runnable),
                    "Killercoda has no solution file: these are the step's runnable commands, in "
                    "order. Running them completes the step.")
        self.warn(f"{where}: no solution found (no solution.md or solution.sh in the step folder "
                  "and no {{exec}} code in the text); the solution only explains, so test_course "
                  "cannot prove this exercise")
        return ("# No solution commands: the Killercoda scenario had none for this step.",
                "The imported scenario has no solution for this step: follow the lesson's "
                "instructions, then press Check.")

    # assets -----------------------------------------------------------------------------------

    def _assets(self, spec) -> list[Asset]:
        if not isinstance(spec, dict):
            self.warn("details.assets is not an object; no assets imported")
            return []
        assets: dict[PurePosixPath, Asset] = {}
        placed: list[str] = []
        moved: list[str] = []
        for host, entries in spec.items():
            if host != "host01":
                self.warn(f"details.assets.{host}: the lab has one machine, so assets for "
                          f"'{host}' are not imported")
                continue
            if not isinstance(entries, list):
                self.warn(f"details.assets.{host} is not a list; ignored")
                continue
            for number, entry in enumerate(entries, start=1):
                where = f"details.assets.{host}[{number}]"
                if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
                    self.warn(f"{where} has no 'file'; skipped")
                    continue
                for key in entry:
                    if key not in ASSET_FIELDS:
                        self.warn(f"{where}: field '{key}' is not imported")
                pattern = entry["file"]
                target = entry.get("target")
                if not isinstance(target, str) or not target.strip():
                    self.warn(f"{where}: no 'target'; '{pattern}' goes to the learner's home")
                    target = "~"
                chmod = entry.get("chmod") or ""
                if chmod and not (isinstance(chmod, str) and CHMOD_RE.match(chmod.strip())):
                    self.warn(f"{where}: chmod '{chmod}' is not understood; ignored")
                    chmod = ""
                home_dir, in_home = _home_relative(target)
                for source, rel in self._asset_files(pattern, where):
                    dest = home_dir / rel
                    if dest in assets and assets[dest].source != source:
                        self.warn(f"{where}: '{dest}' is also another asset; the last one wins")
                    assets[dest] = Asset(source=source, dest=dest, chmod=str(chmod).strip())
                    line = f"{rel} -> ~/{dest}" + (f" (chmod {chmod})" if chmod else "")
                    (placed if in_home else moved).append(
                        line if in_home else f"{rel} (target {target}) -> ~/{dest}")
        if placed or moved:
            message = (f"assets: {len(assets)} file(s) copied to the course's assets/ folder; "
                       "the lab puts them in the learner's home")
            if placed:
                message += ": " + _listing(placed)
            self.warn(message)
        if moved:
            self.warn("assets whose target is outside the learner's home go below the home "
                      "instead: " + _listing(moved))
        return list(assets.values())

    def _asset_files(self, pattern: str, where: str) -> list[tuple[Path, PurePosixPath]]:
        """(file, path relative to the target folder) for each file the pattern names. A file
        keeps its path below the pattern's fixed part: app1/**/*.json puts app1/etc/a.json at
        <target>/etc/a.json, and a directory that matches is copied whole."""
        parts = PurePosixPath(pattern).parts
        if PurePosixPath(pattern).is_absolute() or ".." in parts or not parts:
            self.warn(f"{where}: asset '{pattern}' is outside the scenario's assets/ folder; "
                      "refused (nothing outside the scenario is read)")
            return []
        fixed = []
        for part in parts[:-1]:
            if any(c in part for c in "*?["):
                break
            fixed.append(part)
        assets_dir = self.folder / "assets"
        base = assets_dir.joinpath(*fixed)
        matches = sorted(assets_dir.glob(pattern)) if assets_dir.is_dir() else []
        files: dict[PurePosixPath, Path] = {}
        for match in matches:
            real = inside(self.folder, os.path.relpath(match, self.folder))
            if real is None:
                self.warn(f"{where}: asset '{match.name}' links outside the scenario folder; "
                          "refused")
                continue
            rel = PurePosixPath(*match.relative_to(base).parts)
            if real.is_file():
                files[rel] = real
            elif real.is_dir():
                for sub in sorted(p for p in real.rglob("*") if p.is_file()):
                    sub_real = inside(self.folder, os.path.relpath(sub, self.folder))
                    if sub_real is None:
                        self.warn(f"{where}: asset '{sub.name}' links outside the scenario "
                                  "folder; refused")
                        continue
                    files[rel.joinpath(*sub.relative_to(real).parts)] = sub_real
        if not files:
            self.warn(f"{where}: asset '{pattern}' matches no file in the scenario's assets/ "
                      "folder; skipped")
        return [(source, rel) for rel, source in files.items()]


# Text helpers -----------------------------------------------------------------------------------

def _parse_minutes(time) -> int | None:
    if isinstance(time, (int, float)) and not isinstance(time, bool):
        return int(time) if time > 0 else None
    if not isinstance(time, str):
        return None
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", time)]
    if not numbers:
        return None
    minutes = max(numbers) * (60 if re.search(r"\bh(ours?|rs?)?\b", time.lower()) else 1)
    return int(round(minutes)) or None


def _summary(description: str, limit: int = 200) -> str:
    paragraph = description.strip().split("\n\n")[0]
    text = " ".join(paragraph.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def _missing_text(what: str, rel: str | None) -> str:
    name = f" (`{rel}`)" if rel else ""
    return (f"*The original text of this {what}{name} was missing when this course was imported "
            "from Killercoda.*\n")


def _clean_script(script: str, keep_shebang: bool = False) -> str:
    """Trailing blanks off every line (so YAML can keep the script readable) and, unless asked,
    the #! line off."""
    lines = [line.rstrip() for line in script.replace("\r\n", "\n").split("\n")]
    if not keep_shebang and lines and lines[0].startswith("#!"):
        lines = lines[1:]
    return "\n".join(lines).strip("\n") + "\n"


def _run_first(script: str, what: str) -> str:
    body = _clean_script(script).rstrip("\n")
    fence = "```"
    while fence in body:
        fence += "`"
    return (f"**Run this first.** On Killercoda this script was typed into the terminal for you "
            f"when the {what} opened; here, run it yourself:\n\n"
            f"{fence}bash run\n{body}\n{fence}\n\n")


def _md_commands(text: str) -> str:
    """The shell code blocks of a solution.md (its Killercoda markers converted first)."""
    converted = markdown.convert(text).text
    blocks = split_code_blocks(converted)
    commands = [b.text.strip("\n") for b in blocks
                if (b.lang in SHELL_LANGS or b.flags == ("run",)) and b.text.strip()]
    commands = [c for c in commands if c.strip() != markdown.INTERRUPT_COMMENT]
    return "\n".join(commands).strip("\n") + "\n" if commands else ""


def _prose(text: str | None) -> str:
    """A solution.md without its code blocks: its explanation."""
    if not text:
        return ""
    out, fence = [], None
    for line in markdown.convert(text).text.split("\n"):
        m = markdown.OPEN_FENCE.match(line)
        if fence is None and m:
            fence = m.group("fence")
            continue
        if fence is not None:
            if line.strip() and set(line.strip()) == {fence[0]} and len(line.strip()) >= len(fence):
                fence = None
            continue
        out.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def _home_relative(target: str) -> tuple[PurePosixPath, bool]:
    """(folder relative to the learner's home, whether the target was in the home at all). A
    target outside the home keeps its path below the home (/usr/local/bin -> ~/usr/local/bin),
    so two targets never collide."""
    target = target.strip()
    in_home = True
    rest = target
    for prefix in HOME_PREFIXES:
        if target == prefix or target.startswith(prefix + "/"):
            rest = target[len(prefix):]
            break
    else:
        in_home = not target.startswith("/")
    parts = [p for p in PurePosixPath(rest.strip("/") or ".").parts if p not in ("", ".")]
    if ".." in parts:
        return PurePosixPath(), False
    return PurePosixPath(*parts) if parts else PurePosixPath(), in_home


def _listing(items: list[str], limit: int = 10) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
