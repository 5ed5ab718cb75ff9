"""Small text helpers of the Killercoda importer: scripts, summaries, minutes, placeholders and
the code and prose of a piece of Markdown."""
from __future__ import annotations

import re

from courses.course_files import split_code_blocks
from courses.importers.killercoda import markers

SHELL_LANGS = {"", "bash", "sh", "shell", "console", "plain", "text"}


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


def shell_commands(converted: str) -> str:
    """The shell code blocks of converted lesson Markdown, one after the other."""
    blocks = split_code_blocks(converted)
    commands = [b.text.strip("\n") for b in blocks
                if (b.lang in SHELL_LANGS or b.flags == ("run",)) and b.text.strip()]
    commands = [c for c in commands if c.strip() != markers.INTERRUPT_COMMENT]
    return "\n".join(commands).strip("\n") + "\n" if commands else ""


def md_commands(text: str) -> str:
    """The shell code blocks of a solution.md (its Killercoda markers converted first)."""
    return shell_commands(markers.convert(text).text)


def prose(text: str | None) -> str:
    """A solution.md without its code blocks: its explanation."""
    if not text:
        return ""
    out, fence = [], None
    for line in markers.convert(text).text.split("\n"):
        m = markers.OPEN_FENCE.match(line)
        if fence is None and m:
            fence = m.group("fence")
            continue
        if fence is not None:
            if line.strip() and set(line.strip()) == {fence[0]} and len(line.strip()) >= len(fence):
                fence = None
            continue
        out.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


def listing(items: list[str], limit: int = 10) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
