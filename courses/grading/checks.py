"""The four kinds of check. Each evaluator returns a CheckResult whose message says, in a sentence
a learner can act on, what it found and what it expected."""
from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from courses.course_files import Check
from courses.fieldpath import resolve
from courses.grading import script_messages
from courses.grading.compare import compare, comparison_of, show
from courses.grading.results import CheckResult
from courses.grading.script_runs import ScriptRuns
from courses.schema import DEFAULT_API_VERSIONS
from sandboxes import inspect
from sandboxes.models import Sandbox
from sandboxes.progress import poke_learner

# Long enough for a script that waits for a rollout (`kubectl rollout status`, `kubectl wait`)
# on a busy lab; a check may set its own `timeout` (schema.SCRIPT_TIMEOUT_MAX at the most).
DEFAULT_SCRIPT_TIMEOUT = 60
# How long one live grading pass waits for its script checks, all together, before it reports
# the slow ones as still checking (they go on in the background: script_runs).
LIVE_SCRIPT_WAIT = 1.5


@dataclass
class Context:
    """Everything one grading pass may look at. Objects are fetched once per pass."""

    sandbox: Sandbox | None
    answers: dict = field(default_factory=dict)  # check id -> the learner's latest answer
    fresh: bool = False  # True when the learner pressed Check: nothing reused
    # Live grading (the open lesson's socket, its polling fallback): a script check that takes
    # longer than LIVE_SCRIPT_WAIT is reported as still checking, never waited for.
    live: bool = False
    # What a check that needs a cluster says when there is none that can serve it.
    no_cluster: str = "Start your lab: this is checked on your own cluster."
    _objects: dict = field(default_factory=dict)
    _commands: list | None = None
    _scripts_until: float | None = None

    def script_wait(self, timeout: float) -> float:
        """Seconds a script check may still be waited for in this pass: the whole run, except
        in live grading, where all the pass's scripts share LIVE_SCRIPT_WAIT."""
        if not self.live:
            return timeout + 15
        if self._scripts_until is None:
            self._scripts_until = time.monotonic() + LIVE_SCRIPT_WAIT
        return max(0.0, self._scripts_until - time.monotonic())

    def object(self, ref: dict):
        key = ("get", _api_version(ref), ref["kind"], ref.get("namespace"), ref.get("name"))
        if key not in self._objects:
            self._objects[key] = inspect.get_object(self.sandbox, key[1], key[2], ref["name"], key[3])
        return self._objects[key]

    def objects(self, ref: dict) -> list[dict]:
        key = ("list", _api_version(ref), ref["kind"], ref.get("namespace"), ref.get("selector"))
        if key not in self._objects:
            self._objects[key] = inspect.list_objects(self.sandbox, key[1], key[2], key[3], key[4])
        return self._objects[key]

    def commands(self) -> list:
        if self._commands is None:
            self._commands = inspect.commands(self.sandbox) if self.sandbox else []
        return self._commands


def _api_version(ref: dict) -> str:
    return ref.get("apiVersion") or DEFAULT_API_VERSIONS[ref["kind"]]


def _describe(ref: dict) -> str:
    where = f" in namespace {ref['namespace']}" if ref.get("namespace") else ""
    if ref.get("name"):
        return f"{ref['kind']} {ref['name']}{where}"
    selector = f" with labels {ref['selector']}" if ref.get("selector") else ""
    return f"{ref['kind']}s{selector}{where}"


def evaluate(check: Check, ctx: Context) -> CheckResult:
    spec = check.spec
    title = check.title or default_title(check)
    needs_cluster = check.kind in ("resource", "script") or "answer_from" in spec
    if needs_cluster and ctx.sandbox is None:
        return CheckResult(check.id, check.kind, title, False, ctx.no_cluster)
    try:
        # (passed, message), and for scripts maybe a third item: {"error": ...} or {"pending": ...}
        passed, message, *flags = EVALUATORS[check.kind](check, ctx)
        return CheckResult(check.id, check.kind, title, passed, message, **(flags[0] if flags else {}))
    except inspect.ClusterUnreachable as exc:
        return CheckResult(check.id, check.kind, title, False, str(exc), error=True)
    except inspect.ObjectQueryError as exc:
        return CheckResult(check.id, check.kind, title, False,
                           f"This check cannot be evaluated: {exc}.", error=True)


def default_title(check: Check) -> str:
    spec = check.spec
    if check.kind == "resource":
        ref = spec.get("object", {})
        if "exists" in spec:
            return f"{_describe(ref)} {'exists' if spec['exists'] else 'is gone'}"
        return _describe(ref)
    if check.kind == "command":
        return f"Run {spec.get('example') or spec.get('pattern') or 'the command'}"
    if check.kind == "quiz":
        return spec.get("question", "Question")
    return "Check"


# resource -------------------------------------------------------------------------------------

def _resource(check: Check, ctx: Context) -> tuple[bool, str]:
    spec = check.spec
    ref = spec["object"]
    name = _describe(ref)
    if "count" in spec:
        items = ctx.objects(ref)
        count = spec["count"]
        low, high = (count, count) if isinstance(count, int) else (count.get("min"), count.get("max"))
        ok = (low is None or len(items) >= low) and (high is None or len(items) <= high)
        wanted = (f"{low}" if low == high else f"at least {low}" if high is None
                  else f"at most {high}" if low is None else f"{low} to {high}")
        return ok, f"Found {len(items)} {name}; expected {wanted}."
    if ref.get("name") is None:
        items = ctx.objects(ref)
        obj = items[0] if items else None
    else:
        obj = ctx.object(ref)
    if "exists" in spec:
        if spec["exists"]:
            return (obj is not None, f"{name} exists." if obj is not None
                    else f"There is no {name} yet.")
        return (obj is None, f"{name} is gone." if obj is None
                else f"{name} still exists; expected it to be gone.")
    if obj is None:
        return False, f"There is no {name} yet."
    if "condition" in spec:
        wanted = spec["condition"]
        conditions = (obj.get("status") or {}).get("conditions") or []
        found = next((c for c in conditions if c.get("type") == wanted["type"]), None)
        status = str(wanted.get("status", "True"))
        if found is None:
            return False, f"{name} has no {wanted['type']} condition yet; expected {status}."
        ok = str(found.get("status")) == status
        reason = f" ({found.get('reason')}: {found.get('message')})" if not ok and found.get("reason") else ""
        return ok, f"{name}: {wanted['type']} is {found.get('status')}{reason}; expected {status}."
    items = spec["fields"] if "fields" in spec else [spec]
    for item in items:
        found = resolve(obj, item["field"])
        if found is None and "default" in item:
            found = item["default"]
        op, wanted = comparison_of(item)
        if isinstance(wanted, dict) and "field" in wanted:
            # Compare with another field of the same object (e.g. ready replicas = spec.replicas).
            wanted = resolve(obj, wanted["field"])
        ok, expected = compare(op, found, wanted)
        label = item.get("label") or item["field"]
        if not ok:
            return False, f"{name} has {_amount(label, found)}; expected {expected}."
    if len(items) == 1:
        item = items[0]
        found = resolve(obj, item["field"])
        if found is None and "default" in item:
            found = item["default"]
        return True, f"{name} has {_amount(item.get('label') or item['field'], found)}."
    return True, f"{name} is as asked."


def _amount(label: str, value) -> str:
    """ "3 ready replicas" for numbers, "image myrepo/my-app:1.0" for everything else."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{show(value)} {label}"
    return f"{label} {show(value)}"


# command --------------------------------------------------------------------------------------

NODE_PLACEHOLDER = "{node}"


def _command(check: Check, ctx: Context) -> tuple[bool, str]:
    spec = check.spec
    patterns = spec.get("patterns") or [spec["pattern"]]
    if any(NODE_PLACEHOLDER in p for p in patterns):
        # "{node}" stands for any node that really exists in the learner's cluster.
        if ctx.sandbox is None:
            return False, ctx.no_cluster
        names = [n["metadata"]["name"] for n in ctx.objects({"kind": "Node"})]
        alternation = "|".join(re.escape(n) for n in names) or "(?!)"
        patterns = [p.replace(NODE_PLACEHOLDER, f"(?:{alternation})") for p in patterns]
    commands = ctx.commands()
    missing = []
    for pattern in patterns:
        regex = re.compile(pattern)
        ran = [c for c in commands if regex.search(c.line)]
        if not any(c.exit_code in (0, None) for c in ran):
            missing.append((pattern, ran))
    if not missing:
        return True, "You ran it." if len(patterns) == 1 else "You ran all of them."
    example = spec.get("example")
    pattern, ran = missing[0]
    if ran:
        return False, (f"You ran `{ran[-1].line[:120]}`, but it failed (exit code {ran[-1].exit_code}). "
                       "Try again.")
    shown = re.sub(r"\(\?:[^)]*\)", "<node>", pattern)
    what = f"`{example}`" if example else f"a command matching /{shown}/"
    return False, f"You have not run {what} in your terminal yet."


# quiz -----------------------------------------------------------------------------------------

def normalize(answer) -> str:
    return re.sub(r"\s+", " ", str(answer)).strip().casefold()


def quiz_type(spec: dict) -> str:
    return spec.get("type", "single" if spec.get("choices") else "text")


def _quiz(check: Check, ctx: Context) -> tuple[bool, str]:
    spec = check.spec
    answer = ctx.answers.get(check.id)
    if answer is None:
        return False, "Not answered yet."
    kind = quiz_type(spec)
    if "answer_from" in spec:
        source = spec["answer_from"]
        ref = source["object"]
        obj = ctx.object(ref) if ref.get("name") else next(iter(ctx.objects(ref)), None)
        right = resolve(obj, source["field"]) if obj else None
        if right is None:
            return False, "Your cluster does not show the value this question asks about yet."
        ok = normalize(answer) == normalize(right)
        return ok, "Right: that is what your cluster reports." if ok else \
            f"Your answer '{_short(answer)}' is not what your cluster reports. Look again."
    right = spec["answer"]
    if kind == "multiple":
        chosen = answer if isinstance(answer, list) else [answer]
        ok = sorted(map(normalize, chosen)) == sorted(map(normalize, right if isinstance(right, list) else [right]))
        return ok, "Right." if ok else "Not quite: check which options you picked."
    accepted = right if isinstance(right, list) else [right]  # text quizzes may accept several
    ok = normalize(answer) in {normalize(a) for a in accepted}
    return ok, "Right." if ok else f"'{_short(answer)}' is not right. Try again."


def _short(text, limit: int = 80) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "…"


# script ---------------------------------------------------------------------------------------

# A script starts bash and kubectl (about 70 ms), where the other kinds cost a millisecond or
# two; the live panel grades every second. So a script's result is reused for a few seconds,
# unless the learner ran a command since (what usually changes a script's answer) or pressed Check.
SCRIPT_REUSE_SECONDS = 5.0
# Enough for every learner of a busy host grading at once; past it the oldest result goes first.
SCRIPT_RESULTS_MOST = 2000


class RecentResults:
    """Script results by (sandbox, script), each kept `seconds` at the most and no more than
    `most` at once, so the cache does not grow with every sandbox and script the lab ever graded.
    Grading runs in several threads at once (the consumers' thread pool): a lock guards it."""

    def __init__(self, seconds: float, most: int):
        self.seconds, self.most = seconds, most
        self._entries: OrderedDict = OrderedDict()  # key -> (last command, stored at, result)
        self._lock = threading.Lock()

    def get(self, key, last_command):
        """The result kept for key, if it is young enough and the learner's last command is
        still last_command; None otherwise."""
        with self._lock:
            entry = self._entries.get(key)
        if entry and entry[0] == last_command and time.monotonic() - entry[1] < self.seconds:
            return entry[2]
        return None

    def put(self, key, last_command, result) -> None:
        now = time.monotonic()
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (last_command, now, result)
            # Oldest first: drop from the front what has expired, and what is over the cap.
            while self._entries:
                stored_at = next(iter(self._entries.values()))[1]
                if len(self._entries) <= self.most and now - stored_at < self.seconds:
                    break
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


_script_results = RecentResults(SCRIPT_REUSE_SECONDS, SCRIPT_RESULTS_MOST)
# The last result of each script, shown while it runs again in the background (a check that
# passed does not flicker to "still checking" every few seconds).
KNOWN_SECONDS = 600.0
_known_results = RecentResults(KNOWN_SECONDS, SCRIPT_RESULTS_MOST)
_script_runs = ScriptRuns()


def _script(check: Check, ctx: Context) -> tuple:
    spec = check.spec
    timeout = spec.get("timeout") or DEFAULT_SCRIPT_TIMEOUT
    last_command = ctx.commands()[-1].pk if ctx.commands() else None
    sandbox = ctx.sandbox
    key = (sandbox.pk, spec["script"])
    cached = None if ctx.fresh else _script_results.get(key, last_command)
    if cached:
        return cached

    def run_and_keep():
        result = _run_script(spec["script"], sandbox, timeout)
        _script_results.put(key, last_command, result)
        _known_results.put(key, None, result)
        return result

    if ctx.fresh:
        try:
            return _script_runs.run_fresh(key, run_and_keep, 2 * timeout + 30)
        except TimeoutError:  # the earlier run and this one together took too long
            return False, f"The check did not finish within {timeout} s.", {"error": True}
    result = _script_runs.result_within(key, run_and_keep, ctx.script_wait(timeout),
                                        on_late=lambda: poke_learner(sandbox.owner_id))
    if result is not None:
        return result
    return _known_results.get(key, None) or (
        False, f"Still checking… (this check may take up to {timeout} s)", {"pending": True})


def _run_script(script: str, sandbox: Sandbox, timeout) -> tuple:
    code, out, err = inspect.run_script(sandbox, script, timeout)
    if code is None:
        return False, f"The check did not finish within {timeout} s.", {"error": True}
    if code == 0:
        return True, script_messages.success_message(out)
    return False, script_messages.failure_message(out, err, code)


EVALUATORS = {"resource": _resource, "command": _command, "quiz": _quiz, "script": _script}
