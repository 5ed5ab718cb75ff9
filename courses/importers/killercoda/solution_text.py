"""The solutions and hints an author wrote into a step's text: `<details>` blocks ("Solution",
"Show solution", "Tip", ...) and "Solution" sections, found in converted lesson Markdown.

A step with an exercise loses them from the text the learner reads up front (the lab has its own
"Show solution" and hints); a step without one keeps them folded, so they are not read first
either. `<details>` blocks that are kept get markdown="1", so that Python-Markdown's md_in_html
renders the Markdown inside them (without it, the attribute is sanitized away).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from courses.importers.killercoda.markers import OPEN_FENCE

DETAILS_OPEN = re.compile(r"<details\b[^>]*>", re.IGNORECASE)
DETAILS_CLOSE = re.compile(r"</details\s*>", re.IGNORECASE)
SUMMARY = re.compile(r"<summary\b[^>]*>(?P<title>.*?)</summary\s*>", re.IGNORECASE | re.DOTALL)
HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<title>.*?)\s*#*\s*$")
BOLD_LINE = re.compile(r"^\s*(?:\*\*|__)(?P<title>[^*_\n]{1,40}?):?(?:\*\*|__)\s*:?\s*$")
SOLUTION_TITLE = re.compile(r"^(?:show|reveal|see|the|a|possible|example|one)?\s*"
                            r"(?:solutions?|answers?)\b", re.IGNORECASE)
HINT_TITLE = re.compile(r"^(?:show|a|need\s+a)?\s*(?:hints?|tips?)\b", re.IGNORECASE)
BREAK_LINE = re.compile(r"^\s*(?:<br\s*/?>\s*)*$", re.IGNORECASE)


@dataclass
class TextParts:
    text: str  # what the learner reads up front
    solutions: list[str] = field(default_factory=list)  # Markdown, in order
    hints: list[str] = field(default_factory=list)


@dataclass
class _Part:
    kind: str  # text, details or section
    lines: list[str]
    title: str = ""
    body: str = ""  # details and sections: what is inside, without the title

    @property
    def role(self) -> str:
        """solution, hint or other, from the title."""
        words = re.sub(r"<[^>]+>|[*_`:!.?]", "", self.title).strip()
        words = re.sub(r"^[^\w]+", "", words)  # an emoji or a mark before the words
        if SOLUTION_TITLE.match(words):
            return "solution"
        if HINT_TITLE.match(words):
            return "hint"
        return "other"


def take_solutions(text: str) -> TextParts:
    """text without its solution and hint parts, which are returned apart."""
    result = TextParts(text="")
    kept: list[str] = []
    for part in _parts(text):
        role = part.role if part.kind != "text" else "other"
        if role == "other":
            kept.extend(_markdown_inside(part.lines) if part.kind == "details" else part.lines)
            continue
        (result.solutions if role == "solution" else result.hints).append(part.body)
        while kept and BREAK_LINE.match(kept[-1]):
            kept.pop()  # the <br> spacing an author put before what is gone
        kept.append("")
    result.text = _tidy("\n".join(kept))
    return result


def fold_solutions(text: str) -> tuple[str, int]:
    """(text with its Solution and Hint sections folded into <details>, how many were folded)."""
    out: list[str] = []
    folded = 0
    for part in _parts(text):
        if part.kind == "details":
            out.extend(_markdown_inside(part.lines))
        elif part.kind == "section" and part.role != "other":
            title = re.sub(r"<[^>]+>", "", part.title).strip()
            out.extend(['<details markdown="1">', f"<summary>{title}</summary>", "",
                        part.body, "", "</details>", ""])
            folded += 1
        else:
            out.extend(part.lines)
    return _tidy("\n".join(out)), folded


def _markdown_inside(lines: list[str]) -> list[str]:
    first = lines[0]
    if "markdown=" not in first.lower():
        first = DETAILS_OPEN.sub(lambda m: m.group(0)[:-1].rstrip() + ' markdown="1">', first,
                                 count=1)
    return [first, *lines[1:]]


def _tidy(text: str) -> str:
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
    return text + "\n" if text.strip() else ""


def _parts(text: str) -> list[_Part]:
    lines = text.split("\n")
    parts: list[_Part] = []
    plain: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        end = None
        if DETAILS_OPEN.match(line.lstrip()):
            end = _details_end(lines, i)
            kind = "details"
        elif _section_title(line) is not None:
            end = _section_end(lines, i)
            kind = "section"
        if end is None:
            if OPEN_FENCE.match(line):
                close = _fence_end(lines, i)
                plain.extend(lines[i:close + 1])
                i = close + 1
            else:
                plain.append(line)
                i += 1
            continue
        if plain:
            parts.append(_Part("text", plain))
            plain = []
        chunk = lines[i:end + 1]
        parts.append(_details(chunk) if kind == "details" else _section(chunk))
        i = end + 1
    if plain:
        parts.append(_Part("text", plain))
    return parts


def _details(chunk: list[str]) -> _Part:
    joined = "\n".join(chunk)
    summary = SUMMARY.search(joined)
    body = DETAILS_OPEN.sub("", joined, count=1)
    body = SUMMARY.sub("", body, count=1) if summary else body
    close = list(DETAILS_CLOSE.finditer(body))
    if close:
        body = body[:close[-1].start()] + body[close[-1].end():]
    body_lines = [line for line in body.split("\n")]
    while body_lines and BREAK_LINE.match(body_lines[0]):
        body_lines.pop(0)
    return _Part("details", chunk, title=summary.group("title") if summary else "",
                 body=_tidy("\n".join(body_lines)).strip("\n"))


def _section(chunk: list[str]) -> _Part:
    return _Part("section", chunk, title=_section_title(chunk[0]) or "",
                 body=_tidy("\n".join(chunk[1:])).strip("\n"))


def _section_title(line: str) -> str | None:
    """The title of a heading or a bold line alone, when it names a solution or a hint."""
    m = HEADING.match(line) or BOLD_LINE.match(line)
    if not m:
        return None
    part = _Part("section", [line], title=m.group("title"))
    return m.group("title") if part.role != "other" else None


def _section_end(lines: list[str], start: int) -> int:
    """The last line of the section: before the next heading of the same level or higher (any
    heading after a bold line), or the end."""
    heading = HEADING.match(lines[start])
    level = len(heading.group("hashes")) if heading else 7
    i = start + 1
    last = start
    while i < len(lines):
        if OPEN_FENCE.match(lines[i]):
            last = i = _fence_end(lines, i)
            i += 1
            continue
        m = HEADING.match(lines[i])
        if m and len(m.group("hashes")) <= level:
            break
        last = i
        i += 1
    return last


def _details_end(lines: list[str], start: int) -> int | None:
    """The line of the </details> that closes the one opened at start (None if never closed:
    then it stays text, rather than swallowing the rest of the lesson)."""
    depth = 0
    i = start
    while i < len(lines):
        if OPEN_FENCE.match(lines[i]) and i != start:
            i = _fence_end(lines, i) + 1
            continue
        depth += len(DETAILS_OPEN.findall(lines[i])) - len(DETAILS_CLOSE.findall(lines[i]))
        if depth <= 0:
            return i
        i += 1
    return None


def _fence_end(lines: list[str], start: int) -> int:
    fence = OPEN_FENCE.match(lines[start]).group("fence")
    for i in range(start + 1, len(lines)):
        stripped = lines[i].strip()
        if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
            return i
    return len(lines) - 1
