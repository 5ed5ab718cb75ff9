"""Which line of a check script's output the learner sees: the line that explains.

Authors' scripts (Killercoda's verify.sh above all) print banners ("=== Verifying ==="), progress
("🔍 Checking the deployment..."), a success line per thing that is right and a failure line
for the first thing that is wrong, in any order. So: for a script that failed, its first
FAIL/ERROR/❌ line, else its last line that is neither a banner nor a success line (a failing
check must never show "✅ ConfigMap has the correct value"); for one that passed, its last
success line, else its last line that is not a banner.
"""
from __future__ import annotations

import re

MOST_CHARS = 300
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
FAILURE = re.compile(r"[❌✗✘⛔🚫]|\b(?:fail|failed|failure|error)\b", re.IGNORECASE)
# Upper-case PASS anywhere, or a line that starts with the word: "the pods pass a probe" is not one.
SUCCESS = re.compile(r"[✅✔✓☑🎉👍]|(?-i:\b(?:PASS|PASSED|SUCCESS)\b)|"
                     r"^\W*(?:pass|passed|success|ok|done)\b", re.IGNORECASE)
DECORATION = "=-*#~_+|<>/\\"
DECORATED_TITLE = re.compile(rf"^[{re.escape(DECORATION)}]{{3,}}.*[{re.escape(DECORATION)}]{{3,}}$")
PROGRESS = re.compile(r"^\W*(?:checking|verifying|validating|running|testing|starting|waiting)\b"
                      r".*(?:\.\.\.|…|:)$", re.IGNORECASE)


def clean_lines(text: str) -> list[str]:
    """The output's non-empty lines, without colours or cursor movement."""
    return [line.strip() for line in ANSI.sub("", text).splitlines() if line.strip()]


def is_banner(line: str) -> bool:
    """A line that only decorates or announces ("=====", "=== Step 1 ===", "Checking...")."""
    if not any(ch.isalnum() for ch in line):
        return True
    return bool(DECORATED_TITLE.match(line) or PROGRESS.match(line))


def is_failure(line: str) -> bool:
    return bool(FAILURE.search(line))


def is_success(line: str) -> bool:
    return bool(SUCCESS.search(line)) and not is_failure(line)


def _short(line: str) -> str:
    return line if len(line) <= MOST_CHARS else line[:MOST_CHARS - 1] + "…"


def failure_message(stdout: str, stderr: str, exit_code: int) -> str:
    """What a script that failed says to the learner."""
    out, err = clean_lines(stdout), clean_lines(stderr)
    for lines in (out, err):
        failing = next((line for line in lines if is_failure(line)), None)
        if failing:
            return _short(failing)
    for lines in (out, err):
        plain = [line for line in lines if not is_banner(line) and not is_success(line)]
        if plain:
            return _short(plain[-1])
    return f"Not yet: the check's script exited with code {exit_code} without saying why."


def success_message(stdout: str) -> str:
    """What a script that passed says to the learner."""
    lines = [line for line in clean_lines(stdout) if not is_banner(line)]
    good = [line for line in lines if is_success(line)]
    if good:
        return _short(good[-1])
    plain = [line for line in lines if not is_failure(line)]
    return _short(plain[-1]) if plain else "Done."
