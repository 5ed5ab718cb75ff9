"""Lesson Markdown to safe HTML: python-markdown for the structure, Pygments for code, nh3 so
that nothing an author (or an imported scenario) writes can run script in a learner's page."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache

import markdown
import nh3
from markdown.preprocessors import Preprocessor

from courses.course_files import FENCE_RE

RUNNABLE_LANGS = {"bash", "sh", "shell", "console"}

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre",
    "s", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"class", "title"},
    "a": {"href"},
    "img": {"src", "alt"},
    "ol": {"start"},
    "td": {"style"},
    "th": {"style"},
    # Only headings carry ids (the table of contents links to them); an id elsewhere could
    # shadow the page's own elements.
    **{f"h{n}": {"id"} for n in range(1, 7)},
}


class _FenceInfo(Preprocessor):
    """Turns "```bash run" into "``` { .bash .lang-bash .run }" so the language and the runnable
    flag survive into the HTML as classes (fenced_code otherwise keeps neither)."""

    def run(self, lines: list[str]) -> list[str]:
        out = []
        open_fence = None
        for line in lines:
            m = FENCE_RE.match(line)
            if m and open_fence is None:
                info = m.group("info")
                open_fence = m.group("fence")
                words = info.strip("{} ").replace(".", " ").split() if info else []
                if words:
                    lang = re.sub(r"[^a-z0-9_+-]", "", words[0].lower()) or "text"
                    flags = [re.sub(r"[^a-z0-9-]", "", w.lower()) for w in words[1:]]
                    classes = " ".join(f".{c}" for c in [lang, f"lang-{lang}", *flags] if c)
                    line = f"{m.group('indent')}{open_fence} {{ {classes} }}"
            elif m and line.strip() == open_fence[0] * len(line.strip()) and len(line.strip()) >= len(open_fence):
                open_fence = None
            out.append(line)
        return out


@dataclass(frozen=True)
class Rendered:
    html: str
    toc: tuple  # ((level, id, name), ...)


def _flatten_toc(tokens, out):
    for token in tokens:
        out.append((token["level"], token["id"], html.unescape(token["name"])))
        _flatten_toc(token.get("children", []), out)
    return out


_TOOLBAR_DIV = re.compile(r'<div class="(?P<cls>[^"]*\bcodehilite\b[^"]*)">')


def _add_toolbar(match: re.Match) -> str:
    classes = match.group("cls").split()
    lang = next((c[5:] for c in classes if c.startswith("lang-")), "")
    runnable = "run" in classes and lang in RUNNABLE_LANGS
    buttons = ['<button type="button" class="code-copy" aria-label="Copy code">Copy</button>']
    if runnable:
        buttons.append('<button type="button" class="code-run" aria-label="Run in terminal" '
                       'disabled title="Start your lab to run this">Run in terminal</button>')
    label = f'<span class="code-lang">{html.escape(lang)}</span>' if lang and lang != "text" else ""
    css = "codehilite runnable" if runnable else "codehilite"
    return (f'<div class="{css}" data-lang="{html.escape(lang)}"><div class="code-toolbar">'
            f'{label}{"".join(buttons)}</div>')


def sanitize(raw_html: str) -> str:
    return nh3.clean(
        raw_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        clean_content_tags={"script", "style"},
        url_schemes={"http", "https", "mailto"},
        filter_style_properties={"text-align"},
        link_rel="noopener noreferrer",
    )


@lru_cache(maxsize=512)
def render_markdown(text: str) -> Rendered:
    md = markdown.Markdown(
        # md_in_html: an imported scenario's folded solutions (<details markdown="1">) render
        # their Markdown, code blocks included, inside the block.
        extensions=["fenced_code", "codehilite", "toc", "tables", "admonition", "attr_list",
                    "sane_lists", "md_in_html"],
        extension_configs={
            "codehilite": {"guess_lang": False, "css_class": "codehilite"},
            "toc": {"toc_depth": "2-3", "permalink": False},
        },
    )
    md.preprocessors.register(_FenceInfo(md), "k8slab_fence_info", 30)
    body = md.convert(text)
    # Sanitize first, then add our own trusted toolbar markup around the sanitized code blocks.
    safe = _TOOLBAR_DIV.sub(_add_toolbar, sanitize(body))
    return Rendered(html=safe, toc=tuple(_flatten_toc(md.toc_tokens, [])))
