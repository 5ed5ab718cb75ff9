"""The shape of course.yaml, lesson front matter, exercises and checks.

Each function takes parsed YAML (with line numbers) and appends a Problem for everything wrong,
so an author sees every mistake at once rather than the first one.
"""
from __future__ import annotations

import difflib
import re
from pathlib import Path

from courses.problems import Problem
from courses.yaml_lines import LineDict, LineList

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TIERS = ("api", "full")
CHECK_KINDS = ("resource", "command", "quiz", "script")
COMPARISONS = ("equals", "not_equals", "at_least", "at_most", "matches", "contains", "one_of")
QUIZ_TYPES = ("single", "multiple", "text")
SCRIPT_TIMEOUT_MAX = 120

# apiVersion for the kinds lessons use most, so a check may leave it out.
DEFAULT_API_VERSIONS = {
    "Namespace": "v1", "Pod": "v1", "Node": "v1", "Service": "v1", "ConfigMap": "v1",
    "Secret": "v1", "ServiceAccount": "v1", "PersistentVolumeClaim": "v1", "Event": "v1",
    "ResourceQuota": "v1", "LimitRange": "v1", "Endpoints": "v1",
    "Deployment": "apps/v1", "ReplicaSet": "apps/v1", "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1", "Job": "batch/v1", "CronJob": "batch/v1",
    "Role": "rbac.authorization.k8s.io/v1", "RoleBinding": "rbac.authorization.k8s.io/v1",
    "ClusterRole": "rbac.authorization.k8s.io/v1",
    "ClusterRoleBinding": "rbac.authorization.k8s.io/v1",
    "Ingress": "networking.k8s.io/v1", "NetworkPolicy": "networking.k8s.io/v1",
}

COURSE_FIELDS = {
    "title": str, "summary": str, "description": str, "level": str, "tier": str,
    "contact": str, "lessons": list, "order": int, "setup": str,
    "nodes": list,  # its entries: courses.node_schema
}
LESSON_FIELDS = {
    "title": str, "summary": str, "minutes": int, "objectives": list, "tier": str,
    "gate": bool, "setup": str, "exercises": list,
}
EXERCISE_FIELDS = {
    "slug": str, "title": str, "goal": str, "tier": str, "checks": list, "hints": list,
    "solution": dict,
}
SOLUTION_FIELDS = {"commands": str, "answers": dict, "explanation": str}
OBJECT_FIELDS = {"apiVersion": str, "kind": str, "name": str, "namespace": str, "selector": str}
CHECK_FIELDS = {
    "resource": {"object", "exists", "count", "field", "fields", "condition", "label",
                 "default", *COMPARISONS},
    "command": {"pattern", "patterns", "example"},
    "quiz": {"question", "type", "choices", "answer", "answer_from"},
    "script": {"script", "timeout"},
}
COMMON_CHECK_FIELDS = {"kind", "id", "title"}

_TYPE_NAMES = {str: "text", int: "a whole number", list: "a list", dict: "a mapping", bool: "true or false"}


class Collector:
    """Gathers problems for one file."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[Problem] = []

    def add(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))


def _line(value, default: int) -> int:
    return getattr(value, "line", 0) or default


def check_fields(c: Collector, data: LineDict, allowed: dict | set, where: str,
                 required: tuple = ()) -> None:
    """Report unknown keys (with a suggestion), wrong value types and missing required keys."""
    names = allowed if isinstance(allowed, set) else set(allowed)
    for key in data:
        if key not in names:
            hint = difflib.get_close_matches(str(key), sorted(names), n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            c.add(data.line_of(key), f"{where}: unknown field '{key}'{suggestion}")
        elif isinstance(allowed, dict):
            expected = allowed[key]
            value = data[key]
            ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
            if not ok:
                c.add(data.line_of(key), f"{where}: '{key}' must be {_TYPE_NAMES[expected]}")
    for key in required:
        if key not in data or data[key] in (None, ""):
            c.add(data.line, f"{where}: '{key}' is required")


def check_tier(c: Collector, data: LineDict, where: str) -> None:
    tier = data.get("tier")
    if tier is not None and tier not in TIERS:
        c.add(data.line_of("tier"), f"{where}: unknown tier '{tier}' (use {' or '.join(TIERS)})")


def check_course(c: Collector, data) -> None:
    if not isinstance(data, LineDict):
        c.add(1, "course.yaml must be a mapping with title and lessons")
        return
    check_fields(c, data, COURSE_FIELDS, "course", required=("title", "lessons"))
    check_tier(c, data, "course")
    lessons = data.get("lessons")
    if isinstance(lessons, list):
        seen: dict[str, int] = {}
        for index, slug in enumerate(lessons):
            line = lessons.line_of_item(index) if isinstance(lessons, LineList) else data.line_of("lessons")
            if not isinstance(slug, str) or not SLUG_RE.match(slug):
                c.add(line, f"lesson slug {slug!r} must be lowercase letters, digits and dashes")
            elif slug in seen:
                c.add(line, f"duplicate lesson slug '{slug}'")
            else:
                seen[slug] = line


def check_lesson(c: Collector, meta, body_line: int) -> None:
    if not isinstance(meta, LineDict):
        c.add(max(body_line - 1, 1), "front matter must be a YAML mapping (title: ...)")
        return
    check_fields(c, meta, LESSON_FIELDS, "lesson", required=("title",))
    check_tier(c, meta, "lesson")
    if isinstance(meta.get("minutes"), int) and meta["minutes"] <= 0:
        c.add(meta.line_of("minutes"), "lesson: 'minutes' must be positive")
    exercises = meta.get("exercises")
    if isinstance(exercises, list):
        for index, exercise in enumerate(exercises):
            check_exercise(c, exercise, index, _line(exercises, meta.line))


def check_exercise(c: Collector, ex, index: int, fallback_line: int) -> None:
    where = f"exercise #{index + 1}"
    if not isinstance(ex, LineDict):
        c.add(fallback_line, f"{where} must be a mapping with slug, title, checks and solution")
        return
    if isinstance(ex.get("slug"), str):
        where = f"exercise '{ex['slug']}'"
        if not SLUG_RE.match(ex["slug"]):
            c.add(ex.line_of("slug"), f"{where}: slug must be lowercase letters, digits and dashes")
    check_fields(c, ex, EXERCISE_FIELDS, where, required=("slug", "title", "checks", "solution"))
    check_tier(c, ex, where)
    hints = ex.get("hints")
    if isinstance(hints, list) and not all(isinstance(h, str) and h.strip() for h in hints):
        c.add(ex.line_of("hints"), f"{where}: every hint must be non-empty text")
    checks = ex.get("checks")
    ids: set[str] = set()
    quiz_ids: list[str] = []
    needs_commands = False
    if isinstance(checks, list):
        if not checks:
            c.add(ex.line_of("checks"), f"{where}: 'checks' is empty: an exercise needs at least one")
        for i, check in enumerate(checks):
            check_id = check_check(c, check, i, where, _line(checks, ex.line))
            if check_id is None:
                continue
            if check_id in ids:
                c.add(_line(check, ex.line), f"{where}: duplicate check id '{check_id}'")
            ids.add(check_id)
            if check.get("kind") == "quiz":
                quiz_ids.append(check_id)
            else:
                needs_commands = True
    solution = ex.get("solution")
    if isinstance(solution, LineDict):
        check_fields(c, solution, SOLUTION_FIELDS, f"{where} solution")
        if needs_commands and not str(solution.get("commands") or "").strip():
            c.add(solution.line, f"{where} solution: 'commands' is required (it has checks that "
                                 "are not quizzes)")
        answers = solution.get("answers")
        answers = answers if isinstance(answers, LineDict) else LineDict()
        for quiz_id in quiz_ids:
            if quiz_id not in answers:
                c.add(solution.line, f"{where} solution: no answer for quiz check '{quiz_id}'")
        for key in answers:
            if key not in quiz_ids:
                c.add(answers.line_of(key), f"{where} solution: answer for '{key}', which is not "
                                            "a quiz check of this exercise")


def default_check_id(check: dict, index: int) -> str:
    return str(check.get("id") or f"{check.get('kind', 'check')}-{index + 1}")


def check_check(c: Collector, check, index: int, where: str, fallback_line: int) -> str | None:
    """Validate one check; returns its id (explicit or default) when it is a mapping."""
    here = f"{where} check #{index + 1}"
    if not isinstance(check, LineDict):
        c.add(fallback_line, f"{here} must be a mapping with a 'kind'")
        return None
    kind = check.get("kind")
    if kind not in CHECK_KINDS:
        shown = f"unknown check kind '{kind}'" if kind else "'kind' is required"
        c.add(check.line_of("kind"), f"{here}: {shown} (use one of {', '.join(CHECK_KINDS)})")
        return default_check_id(check, index)
    check_id = default_check_id(check, index)
    if not SLUG_RE.match(check_id):
        c.add(check.line_of("id"), f"{here}: id '{check_id}' must be lowercase letters, digits "
                                   "and dashes")
    here = f"{where} check '{check_id}'"
    check_fields(c, check, COMMON_CHECK_FIELDS | CHECK_FIELDS[kind], here)
    {"resource": _check_resource, "command": _check_command, "quiz": _check_quiz,
     "script": _check_script}[kind](c, check, here)
    return check_id


def _check_object(c: Collector, obj, line: int, here: str) -> None:
    if not isinstance(obj, LineDict):
        c.add(line, f"{here}: 'object' must be a mapping with kind and name or selector")
        return
    check_fields(c, obj, OBJECT_FIELDS, f"{here} object", required=("kind",))
    kind = obj.get("kind")
    if isinstance(kind, str) and "apiVersion" not in obj and kind not in DEFAULT_API_VERSIONS:
        c.add(obj.line, f"{here} object: give apiVersion for kind '{kind}'")
    if "name" in obj and "selector" in obj:
        c.add(obj.line, f"{here} object: give name or selector, not both")


def _check_resource(c: Collector, check: LineDict, here: str) -> None:
    if "object" not in check:
        c.add(check.line, f"{here}: 'object' is required (which Kubernetes object to look at)")
    else:
        _check_object(c, check["object"], check.line_of("object"), here)
    assertions = [k for k in ("exists", "count", "field", "fields", "condition") if k in check]
    if len(assertions) != 1:
        c.add(check.line, f"{here}: give exactly one of exists, count, field, fields or condition")
        return
    what = assertions[0]
    if what == "exists" and not isinstance(check["exists"], bool):
        c.add(check.line_of("exists"), f"{here}: 'exists' must be true or false")
    if what == "count":
        count = check["count"]
        ok = (isinstance(count, int) and not isinstance(count, bool) and count >= 0) or (
            isinstance(count, LineDict) and set(count) <= {"min", "max"} and count
            and all(isinstance(v, int) for v in count.values()))
        if not ok:
            c.add(check.line_of("count"), f"{here}: 'count' must be a number or {{min: N, max: N}}")
    if what == "field":
        _check_comparison(c, check, here)
    if what == "fields":
        items = check["fields"]
        if not isinstance(items, list) or not items:
            c.add(check.line_of("fields"), f"{here}: 'fields' must be a non-empty list")
            return
        for item in items:
            if not isinstance(item, LineDict) or "field" not in item:
                c.add(_line(item, check.line), f"{here}: each entry of 'fields' needs a 'field'")
                continue
            check_fields(c, item, {"field", "label", "default", *COMPARISONS}, here)
            _check_comparison(c, item, here)
    if what == "condition":
        cond = check["condition"]
        if not isinstance(cond, LineDict) or "type" not in cond:
            c.add(check.line_of("condition"), f"{here}: 'condition' needs a type (and a status)")
        else:
            check_fields(c, cond, {"type", "status"}, f"{here} condition")


def _check_comparison(c: Collector, item: LineDict, here: str) -> None:
    from courses.fieldpath import FieldPathError, parse_field_path

    try:
        parse_field_path(str(item.get("field", "")))
    except FieldPathError as exc:
        c.add(item.line_of("field"), f"{here}: {exc}")
    ops = [op for op in COMPARISONS if op in item]
    if len(ops) != 1:
        c.add(item.line, f"{here}: give exactly one comparison: {', '.join(COMPARISONS)}")
        return
    op = ops[0]
    value = item[op]
    if isinstance(value, dict):
        # {field: other.path}: compare with another field of the same object.
        if set(value) != {"field"} or op not in ("equals", "not_equals", "at_least", "at_most"):
            c.add(item.line_of(op), f"{here}: '{op}' may name another field only as "
                                    "{field: path}, with equals, not_equals, at_least or at_most")
        else:
            try:
                parse_field_path(str(value["field"]))
            except FieldPathError as exc:
                c.add(item.line_of(op), f"{here}: {exc}")
        return
    if op in ("at_least", "at_most") and not isinstance(item[op], (int, float)):
        c.add(item.line_of(op), f"{here}: '{op}' must be a number")
    if op == "matches":
        _check_regex(c, item[op], item.line_of(op), here)
    if op == "one_of" and not isinstance(item[op], list):
        c.add(item.line_of(op), f"{here}: 'one_of' must be a list")


def _check_regex(c: Collector, pattern, line: int, here: str) -> None:
    if not isinstance(pattern, str) or not pattern:
        c.add(line, f"{here}: a pattern must be non-empty text")
        return
    try:
        re.compile(pattern)
    except re.error as exc:
        c.add(line, f"{here}: pattern {pattern!r} is not a valid regular expression: {exc}")


def _check_command(c: Collector, check: LineDict, here: str) -> None:
    if ("pattern" in check) == ("patterns" in check):
        c.add(check.line, f"{here}: give 'pattern' (one regular expression) or 'patterns' (a list)")
        return
    if "pattern" in check:
        _check_regex(c, check["pattern"].replace("{node}", "x"), check.line_of("pattern"), here)
    else:
        patterns = check["patterns"]
        if not isinstance(patterns, list) or not patterns:
            c.add(check.line_of("patterns"), f"{here}: 'patterns' must be a non-empty list")
            return
        for pattern in patterns:
            _check_regex(c, str(pattern).replace("{node}", "x"), check.line_of("patterns"), here)


def _check_quiz(c: Collector, check: LineDict, here: str) -> None:
    if not str(check.get("question") or "").strip():
        c.add(check.line, f"{here}: 'question' is required")
    choices = check.get("choices")
    quiz_type = check.get("type", "single" if choices else "text")
    if quiz_type not in QUIZ_TYPES:
        c.add(check.line_of("type"), f"{here}: unknown quiz type '{quiz_type}' "
                                     f"(use {', '.join(QUIZ_TYPES)})")
        return
    if ("answer" in check) == ("answer_from" in check):
        c.add(check.line, f"{here}: give 'answer' or 'answer_from' (a live value), not both")
    if quiz_type in ("single", "multiple"):
        if not isinstance(choices, list) or len(choices) < 2:
            c.add(check.line_of("choices"), f"{here}: a {quiz_type}-choice quiz needs 2+ choices")
            return
        if "answer_from" in check:
            c.add(check.line_of("answer_from"), f"{here}: 'answer_from' works with type text only")
            return
        answer = check.get("answer")
        answers = answer if isinstance(answer, list) else [answer]
        if quiz_type == "single" and isinstance(answer, list):
            c.add(check.line_of("answer"), f"{here}: a single-choice quiz has one answer")
        for a in answers:
            if a not in choices:
                c.add(check.line_of("answer"), f"{here}: answer {a!r} is not one of the choices")
    elif "answer" in check and not (isinstance(check["answer"], str) or (
            isinstance(check["answer"], list) and check["answer"]
            and all(isinstance(a, str) for a in check["answer"]))):
        c.add(check.line_of("answer"), f"{here}: a text answer is text, or a list of accepted texts")
    elif "answer_from" in check:
        source = check["answer_from"]
        if not isinstance(source, LineDict) or "object" not in source or "field" not in source:
            c.add(check.line_of("answer_from"), f"{here}: 'answer_from' needs object and field")
        else:
            check_fields(c, source, {"object", "field"}, f"{here} answer_from")
            _check_object(c, source["object"], source.line_of("object"), here)
            from courses.fieldpath import FieldPathError, parse_field_path
            try:
                parse_field_path(str(source["field"]))
            except FieldPathError as exc:
                c.add(source.line_of("field"), f"{here}: {exc}")


def _check_script(c: Collector, check: LineDict, here: str) -> None:
    if not str(check.get("script") or "").strip():
        c.add(check.line, f"{here}: 'script' is required (bash; exit 0 passes)")
    timeout = check.get("timeout")
    if timeout is not None and (not isinstance(timeout, int) or not 1 <= timeout <= SCRIPT_TIMEOUT_MAX):
        c.add(check.line_of("timeout"), f"{here}: 'timeout' must be 1 to {SCRIPT_TIMEOUT_MAX} seconds")
