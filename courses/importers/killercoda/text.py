"""Small text helpers of the Killercoda importer: scripts, summaries, minutes, placeholders and
the code and prose of a piece of Markdown."""
from __future__ import annotations

import re

from courses.course_files import FENCE_RE
from courses.importers.killercoda import markers

SHELL_LANGS = {"", "bash", "sh", "shell", "console", "plain", "text"}
MANIFEST = re.compile(r"^\s*(?:apiVersion|kind|metadata|spec)\s*:")


def parse_minutes(time) -> int | None:
    if isinstance(time, (int, float)) and not isinstance(time, bool):
        return int(time) if time > 0 else None
    if not isinstance(time, str):
        return None
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", time)]
    if not numbers:
        return None
    minutes = max(numbers) * (60 if re.search(r"\bh(ours?|rs?)?\b", time.lower()) else 1)
    return int(round(minutes)) or None


def summary(description: str, limit: int = 200) -> str:
    paragraph = description.strip().split("\n\n")[0]
    text = " ".join(paragraph.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def missing_text(what: str, rel: str | None) -> str:
    name = f" (`{rel}`)" if rel else ""
    return (f"*The original text of this {what}{name} was missing when this course was imported "
            "from Killercoda.*\n")


def clean_script(script: str, keep_shebang: bool = False) -> str:
    """Trailing blanks off every line (so YAML can keep the script readable) and, unless asked,
    the #! line off."""
    lines = [line.rstrip() for line in script.replace("\r\n", "\n").split("\n")]
    if not keep_shebang and lines and lines[0].startswith("#!"):
        lines = lines[1:]
    return "\n".join(lines).strip("\n") + "\n"


def run_first(script: str, what: str) -> str:
    body = clean_script(script).rstrip("\n")
    fence = "```"
    while fence in body:
        fence += "`"
    return (f"**Run this first.** On Killercoda this script was typed into the terminal for you "
            f"when the {what} opened; here, run it yourself:\n\n"
            f"{fence}bash run\n{body}\n{fence}\n\n")


def take_shell_blocks(text: str) -> tuple[list[str], str]:
    """(the shell code blocks of converted lesson Markdown, the text without them). A block
    that holds a manifest is not a command, whatever its language says."""
    lines = text.split("\n")
    blocks: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(lines):
        m = FENCE_RE.match(lines[i])
        if not m:
            rest.append(lines[i])
            i += 1
            continue
        fence = m.group("fence")
        words = m.group("info").strip("{} ").replace(".", " ").split()
        j = i + 1
        while j < len(lines) and not (lines[j].strip() and set(lines[j].strip()) == {fence[0]}
                                      and len(lines[j].strip()) >= len(fence)):
            j += 1
        content = [line for line in lines[i + 1:j] if line.strip() != markers.INTERRUPT_COMMENT]
        code = "\n".join(content).strip("\n")
        lang = words[0].lower() if words else ""
        first = next((line for line in content
                      if line.strip() and not line.lstrip().startswith("#")), "")
        if (lang in SHELL_LANGS or words[1:] == ["run"]) and first and not MANIFEST.match(first):
            blocks.append(code)
        else:
            rest.extend(lines[i:j + 1])
        i = j + 1
    return blocks, "\n".join(rest)


def md_commands(text: str) -> str:
    """The shell code blocks of a solution.md (its Killercoda markers converted first)."""
    blocks, _ = take_shell_blocks(markers.convert(text).text)
    return "\n".join(blocks).strip("\n") + "\n" if blocks else ""


def prose(text: str | None) -> str:
    """A solution.md's explanation (its Killercoda markers converted first)."""
    return solution_words(markers.convert(text).text) if text else ""


def solution_words(text: str) -> str:
    """The words of a solution in converted Markdown: without its shell blocks (they are the
    solution's commands), unless words come between them, as in a walkthrough ("first ...:
    <block>, then ...: <block>"), which means nothing without them."""
    blocks, rest = take_shell_blocks(text)
    if len(blocks) > 1 and _words_between_blocks(text):
        rest = text
    rest = re.sub(r"(?im)^\s*<br\s*/?>\s*$", "", rest)
    return re.sub(r"\n{3,}", "\n\n", rest).strip()


def _words_between_blocks(text: str) -> bool:
    between = re.split(r"(?m)^(?:`{3,}|~{3,}).*$", text)
    # Split on fence lines: odd pieces are code, even ones prose; the prose pieces strictly
    # between the first block and the last hold the walkthrough's words.
    inner = between[2:-2:2]
    return any(re.sub(r"(?i)<br\s*/?>", "", piece).strip() for piece in inner)


INLINE_CODE = re.compile(r"(?P<ticks>`+)(?P<code>.+?)(?P=ticks)")


def code_of(text: str) -> str:
    """The code of converted lesson Markdown (its code blocks and inline code), one piece a line,
    without the prose around it: what the learner would run."""
    pieces = []
    fence = None
    for line in text.split("\n"):
        m = FENCE_RE.match(line)
        if fence is None and m:
            fence = m.group("fence")
        elif fence is not None:
            stripped = line.strip()
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                fence = None
            else:
                pieces.append(line)
        else:
            pieces.extend(m.group("code") for m in INLINE_CODE.finditer(line))
    return "\n".join(pieces)


def listing(items: list[str], limit: int = 10) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
