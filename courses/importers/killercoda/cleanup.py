"""Killercoda's leftovers taken out of what an author wrote: instructions about Killercoda's own
buttons, tabs and menus in the text, foreground scripts that only wait for the background one,
and the `k` alias its VMs have."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from courses.importers.killercoda.markers import OPEN_FENCE

RUN_SENTENCE = "Press **Run in terminal** on a command to run it."
COPY_SENTENCE = "Every code block has a **Copy** button."
_CLICK = r"(?:click(?:ed|ing|s)?|press(?:ed|ing)?|tap(?:ped|ping)?|hit)"
_SENTENCE = r"[^.!?\n]*"  # the rest of one sentence on this line

# What Killercoda's page had and the lab's does not: (pattern, replacement or None to keep the
# line, what it was, for the warning). Patterns see one line of prose (never code); the first
# that matches a line wins.
UI_LEFTOVERS = [
    # "Click ▶️ Start Scenario", "Click **Start** to begin.": the lab opens the lesson directly.
    (re.compile(rf"^\s*(?:>\s*)?(?:\*\*|__)?{_CLICK}\s+(?:on\s+)?(?:the\s+)?[`'\"*_\[]*"
                r"(?:▶️?\s*)?start(?:\s+scenario)?[`'\"*_\]]*(?:\s+button)?"
                rf"(?:\s+(?:to|and)\b{_SENTENCE})?[.!]*(?:\*\*|__)?\s*$", re.IGNORECASE),
     "", "'Start' (the lab opens the lesson directly)"),
    # "Click on {{exec}} to run a command", "Commands marked {{exec}} can be clicked".
    (re.compile(rf"{_SENTENCE}\b{_CLICK}\b{_SENTENCE}(?<!`)\{{\{{\s*exec(?:ute)?\b[^}}]*\}}\}}"
                rf"{_SENTENCE}[.!?]?|{_SENTENCE}(?<!`)\{{\{{\s*exec(?:ute)?\b[^}}]*\}}\}}"
                rf"{_SENTENCE}\b{_CLICK}\b{_SENTENCE}[.!?]?", re.IGNORECASE),
     RUN_SENTENCE, "clicking {{exec}} code"),
    (re.compile(rf"{_SENTENCE}\b{_CLICK}\b{_SENTENCE}(?<!`)\{{\{{\s*copy\s*\}}\}}"
                rf"{_SENTENCE}[.!?]?|{_SENTENCE}(?<!`)\{{\{{\s*copy\s*\}}\}}{_SENTENCE}\b{_CLICK}\b"
                rf"{_SENTENCE}[.!?]?", re.IGNORECASE),
     COPY_SENTENCE, "clicking {{copy}} code"),
    # "Click on the command below to execute it in the terminal."
    (re.compile(rf"[^.!?\n]*\b{_CLICK}\s+(?:on\s+)?(?:the\s+|a\s+|any\s+|each\s+)?"
                r"(?:commands?|code(?:\s+blocks?|\s+snippets?)?|snippets?)\b"
                rf"{_SENTENCE}\b(?:run|execute|exec)\w*\b{_SENTENCE}[.!?]?", re.IGNORECASE),
     RUN_SENTENCE, "clicking code to run it"),
    (re.compile(r"Traffic\s*/\s*Ports|Traffic Port Accessor|\bCustom Ports\b", re.IGNORECASE),
     None, "Killercoda's 'Traffic / Ports' menu (the lab has no app view yet)"),
    (re.compile(r"\b(?:new|another|second)\s+(?:terminal\s+)?tab\b|\bTab\s+[2-9]\b|"
                r"\bnode01\*{0,2}\s+tab\b", re.IGNORECASE),
     None, "a second terminal tab (the lab has one terminal)"),
    (re.compile(r"\b(?:Editor|IDE|Theia|VS ?Code)[`*'\"]*\s+tab\b", re.IGNORECASE),
     None, "the editor tab (the lab has a terminal only: use vi or nano)"),
]


@dataclass
class Cleaned:
    text: str
    removed: list[str] = field(default_factory=list)  # what was replaced or taken out
    kept: list[str] = field(default_factory=list)  # what stays, but will not work here


def strip_ui_leftovers(source: str) -> Cleaned:
    """source (a scenario's Markdown, markers not yet converted) without its instructions about
    Killercoda's own page; code blocks are never touched."""
    result = Cleaned(text="")
    out: list[str] = []
    fence = None
    for line in source.split("\n"):
        opening = OPEN_FENCE.match(line)
        if fence is not None:
            rest = line.strip()
            if rest.startswith(fence):
                rest = rest.lstrip(fence[0]).strip()
                if not rest or rest.startswith("{{"):  # "```{{exec}}" closes a block too
                    fence = None
            out.append(line)
            continue
        if opening:
            fence = opening.group("fence")
            out.append(line)
            continue
        out.append(_clean_line(line, result))
    text = "\n".join(out)
    result.text = re.sub(r"\n{3,}", "\n\n", text) if result.removed else text
    return result


def _clean_line(line: str, result: Cleaned) -> str:
    for pattern, replacement, what in UI_LEFTOVERS:
        if not pattern.search(line):
            continue
        if replacement is None:
            if what not in result.kept:
                result.kept.append(what)
            return line
        if what not in result.removed:
            result.removed.append(what)
        new = pattern.sub(lambda m: _keep_space(m.group(0), replacement), line, count=1)
        return new if new.strip() else ""
    return line


def _keep_space(matched: str, replacement: str) -> str:
    lead = matched[:len(matched) - len(matched.lstrip())]
    return f"{lead}{replacement}" if replacement else ""


# A foreground script's wait for the background one (`while [ ! -f /tmp/finished ]; do sleep 1;
# done`): the lab runs the setup before the lesson opens, and in another process whose /tmp the
# learner's shell may not share, so typed by the learner it could wait forever.
WAIT_LOOP = re.compile(r"^\s*(?:while|until)\s+(?:\[\[?|test\b|!\s*\[)[^\n]*-[fesd]\s+\S+[^\n]*"
                       r"(?:;\s*|\n\s*)do\b(?:[^\n]*\n?)*?[^\n]*\bdone\b[^\n]*\n?", re.MULTILINE)
NOISE_LINE = re.compile(r"^\s*(?:#.*|echo\b.*|printf\b.*|clear|sleep\s+\S+|set\s+-\w+|)\s*$")


def drop_background_waits(script: str) -> tuple[str, bool]:
    """(the script without its waits for the background script, whether it had any). What is
    left is "" when it only waited and printed."""
    stripped, count = WAIT_LOOP.subn("", script)
    if not count:
        return script, False
    if all(NOISE_LINE.match(line) for line in stripped.split("\n")):
        return "", True
    return stripped, True


# Killercoda's VMs have `k` for kubectl; the lab's shells and scripts need not.
K_ALIAS = re.compile(r"(?:^|[;&|(`]\s*|\$\(\s*|\b(?:then|do|else)\s+)k\s+"
                     r"(?:-\S+\s+(?:[^-\s]\S*\s+)?)*"  # options, some with a value: -n app
                     r"(?:get|describe|apply|create|delete|run|expose|label|annotate|exec|logs|"
                     r"rollout|scale|set|edit|patch|top|auth|config|wait|explain|api-resources|"
                     r"cordon|uncordon|drain|taint|replace|cp|port-forward|version|cluster-info)\b",
                     re.MULTILINE)
K_FUNCTION = 'k() { kubectl "$@"; }  # Killercoda\'s shorthand for kubectl\n'
K_TYPED = "alias k=kubectl  # Killercoda's shorthand for kubectl\n"


def uses_k_alias(text: str) -> bool:
    return bool(K_ALIAS.search(text))


def define_k(script: str, typed: bool = False) -> str:
    """script with `k` defined first (after a #! line) when it uses it; typed is for commands
    typed into a terminal, where an alias is what a learner would write."""
    if not uses_k_alias(script):
        return script
    line = K_TYPED if typed else K_FUNCTION
    if script.startswith("#!"):
        first, _, rest = script.partition("\n")
        return f"{first}\n{line}{rest}"
    return line + script
