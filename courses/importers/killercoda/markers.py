"""Killercoda's markers ({{exec}}, {{copy}}, {{TRAFFIC_HOST1_80}}, ...) as k8s-lab lesson Markdown.

Killercoda writes an action right after a piece of code; here every code block already has a
Copy button and a block whose info string is `bash run` gets "Run in terminal":

    ```plain
    kubectl get nodes
    ```{{exec}}                  -> ```bash run
    ```{{exec interrupt}}        -> ```bash run, whose first line is a comment telling the learner
                                    to press Ctrl-C first (our Run button only types text)
    ```{{copy}}                  -> a plain block (```plain becomes ```text)
    `kubectl get pods`{{exec}}   -> the inline code stays where it is, and a runnable block with
                                    the command follows its paragraph or list item
    `text`{{copy}}, `text`{{}}   -> plain inline code
    [app]({{TRAFFIC_HOST1_80}})  -> [app](#lab-app-port-80){: .lab-app-port title="..."}: a
                                    placeholder link the lab's app view can find by its class
                                    and port (that view does not exist yet); a bare
                                    {{TRAFFIC_HOST1_80}} becomes such a link too

Python-Markdown only recognises a fence at the start of a line, so every block is written at
column 0 (a block inside a list item splits the list there).
A yaml block that does not parse becomes a text block, because the lab rejects it otherwise.
Code is never changed: a `{{ .Values.x }}` inside a code block or code span is template text,
not a marker. Everything here is a pure function of the text.
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

import yaml

from courses.course_files import FENCE_RE, split_code_blocks

INTERRUPT_COMMENT = ("# First press Ctrl-C in the terminal to stop the command that is still "
                     "running (Killercoda did that for you).")

OPEN_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
MARKER = re.compile(r"\{\{\s*(?P<body>[^{}]*?)\s*\}\}")
SPACED_MARKER = re.compile(r"(?P<space>[ \t]?)\{\{\s*(?P<body>[^{}]*?)\s*\}\}")
ONLY_MARKERS = re.compile(r"(?:\{\{[^{}]*\}\}\s*)+")
ACTION_LINE = re.compile(r"\{\{\s*(?:exec|execute|copy)\b[^{}]*\}\}", re.IGNORECASE)
CODE_SPAN = re.compile(r"(?P<ticks>`+)(?P<code>.*?[^`])(?P=ticks)(?!`)"
                       r"(?:\{\{(?P<marker>[^{}]*)\}\})?")
TRAFFIC_LINK = re.compile(r"\[(?P<label>[^\]]*)\]\(\s*<?\{\{\s*(?P<marker>TRAFFIC_(?:SELECTOR|"
                          r"(?P<host>[A-Za-z0-9]+)_(?P<port>\d+)))\s*\}\}(?P<rest>[^)\s>]*)>?"
                          r"(?:\s+\"[^\"]*\")?\s*\)")
TRAFFIC = re.compile(r"^TRAFFIC_(?:SELECTOR|(?P<host>[A-Za-z0-9]+)_(?P<port>\d+))$")
IDENTIFIER = re.compile(r"^[A-Za-z_][\w-]*(\s.*)?$")
LIST_ITEM = re.compile(r"^(?P<lead>\s*)(?:[-*+]|\d{1,9}[.)])(?P<gap>\s+)")
IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?(?P<src>[^)\s>]+)|<img\b[^>]*\bsrc=[\"'](?P<html>[^\"']+)",
                   re.IGNORECASE)
RUNNABLE = "bash run"
APP_LINK_CLASS = "lab-app-port"  # the class of a placeholder link to a port of the lab machine
APP_LINK_NOTE = "the lab machine's {what}{where}: the lab cannot open {it} in the browser yet"


def app_link(label: str, port: str | None, rest: str = "", host: str | None = None) -> str:
    """A placeholder link for Killercoda's {{TRAFFIC_HOST1_80}}: #lab-app-port-80 (or
    #lab-app-ports for the port selector), with the class the lab's app view will look for."""
    rest = re.sub(r"[^\w./~?=&%-]", "", rest)
    what = f"port {port}{rest}" if port else "ports"
    where = f" (Killercoda's {host.lower()})" if host and host.lower() != "host1" else ""
    label = label.strip() or f"{what} of the lab machine"
    target = f"#lab-app-port-{port}{rest}" if port else "#lab-app-ports"
    note = APP_LINK_NOTE.format(what=what, where=where, it="it" if port else "them")
    return f'[{label}]({target}){{: .{APP_LINK_CLASS} title="{note[0].upper()}{note[1:]}"}}'


@dataclass
class Converted:
    text: str
    commands: list[str] = field(default_factory=list)  # each runnable command/block, in order
    interrupts: int = 0  # blocks and inline commands that were {{exec interrupt}}
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)


def parse_action(body: str) -> tuple[str, list[str]]:
    """`exec interrupt` -> ("exec", ["interrupt"]); `execute T2` -> ("exec", ["t2"]); `` -> ("none", [])."""
    words = body.split()
    if not words:
        return "none", []
    verb = words[0].lower()
    if verb in ("exec", "execute"):
        return "exec", [w.lower() for w in words[1:]]
    return verb, words[1:]


def _exec_args(args: list[str], body: str, result: Converted) -> bool:
    """Returns whether the action interrupts first; warns about tabs and hosts we do not have."""
    interrupt = "interrupt" in args
    others = [a for a in args if a != "interrupt"]
    if others:
        result.warn(f"'{{{{{body}}}}}' runs in another terminal tab or on another host "
                    f"({' '.join(others)}); here it runs in the learner's one terminal")
    return interrupt


def convert(text: str) -> Converted:
    result = Converted(text="")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    pending: list[tuple[str, bool]] = []  # inline {{exec}} commands of the current paragraph
    in_unit = False

    def flush(trailing_blank: bool = True) -> None:
        if not pending:
            return
        body = []
        for command, interrupt in pending:
            if interrupt:
                body.append(INTERRUPT_COMMENT)
            body.extend(command.split("\n"))
        out.append("")
        out.append(f"```{RUNNABLE}")
        out.extend(body)
        out.append("```")
        if trailing_blank:
            out.append("")
        pending.clear()

    para_start = 0  # where the current paragraph (up to a blank line) starts in out
    para_raw: list[str] = []  # and its lines as they were
    para_commands = False  # whether it had inline {{exec}} code
    i = 0
    while i < len(lines):
        line = lines[i]
        opening = OPEN_FENCE.match(line)
        if opening and not (opening.group("fence")[0] == "`" and "`" in opening.group("info")):
            info = opening.group("info").strip()
            if info and ONLY_MARKERS.fullmatch(info):
                # "```{{exec}}" with no block open: a closing fence whose opening is missing.
                # The paragraph just before it is the code the author meant.
                if para_raw and not para_commands:
                    del out[para_start:]
                    _emit_block(out, "", opening.group("fence"), "", list(para_raw), info, result)
                    result.warn(f"a closing fence '{line.strip()}' has no opening fence; the "
                                "paragraph before it became the code block")
                else:
                    result.warn(f"a closing fence '{line.strip()}' has no opening fence; it was "
                                "removed")
                in_unit, para_raw, para_commands = False, [], False
                i += 1
                continue
            flush()
            in_unit, para_raw, para_commands = False, [], False
            i = _fenced_block(lines, i, opening, out, result)
            continue
        if not line.strip():
            flush(trailing_blank=False)
            in_unit, para_raw, para_commands = False, [], False
            out.append(line)
            i += 1
            continue
        item = LIST_ITEM.match(line)
        if item or line.lstrip().startswith("#") or not in_unit:
            flush()
            in_unit = True
        if not para_raw:
            para_start = len(out)
        para_raw.append(line)
        converted, commands = _inline(line, result)
        para_commands = para_commands or bool(commands)
        out.append(converted)
        pending.extend(commands)
        i += 1
    flush()

    body = "\n".join(out).strip("\n")
    result.text = _plain_text_for_broken_yaml(body, result) + "\n" if body.strip() else ""
    return result


def _fenced_block(lines: list[str], start: int, opening: re.Match, out: list[str],
                  result: Converted) -> int:
    """Copies one fenced block (converted by the action after it) to out; returns the next line."""
    indent, fence = opening.group("indent"), opening.group("fence")
    info = MARKER.sub("", opening.group("info")).strip()
    close = re.compile(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*(?P<rest>.*?)\s*$")
    content: list[str] = []
    action_text = None
    i = start + 1
    closed = False
    while i < len(lines):
        m = close.match(lines[i])
        rest = m.group("rest") if m else ""
        if m and (not rest or rest.startswith("{{")):
            closed = True
            markers = ONLY_MARKERS.match(rest)
            action_text = markers.group(0).strip() if markers else None
            if rest[markers.end() if markers else 0:].strip():
                result.warn(f"the text after the closing fence '{lines[i].strip()}' was dropped")
            i += 1
            break
        content.append(lines[i])
        i += 1
    if not closed:
        while content and not content[-1].strip():
            content.pop()
        result.warn("a code block is never closed; it was closed at the end of the text")
    elif action_text is None and i < len(lines) and ACTION_LINE.fullmatch(lines[i].strip()):
        action_text = lines[i].strip()  # the marker on the line after the closing fence
        i += 1

    _emit_block(out, indent, fence, info, content, action_text, result)
    return i


def _emit_block(out: list[str], indent: str, fence: str, info: str, content: list[str],
                action_text: str | None, result: Converted) -> None:
    """Appends one block to out, converted by its action ({{exec}}, {{copy}}, ... or None)."""
    # Python-Markdown only sees a fence at the start of a line (not inside a list item or a
    # quote), so the block moves to column 0, its lines losing the fence's indentation.
    content = [_unindent(line, indent) for line in content]
    verb, args, body = "none", [], ""
    if action_text:
        first = MARKER.search(action_text)
        body = first.group("body") if first else ""
        verb, args = parse_action(body)
    if verb == "exec":
        interrupt = _exec_args(args, body, result)
        block = list(content)
        if interrupt:
            result.interrupts += 1
            block.insert(0, _common_indent(content) + INTERRUPT_COMMENT)
        out.append(f"{fence}{RUNNABLE}")
        out.extend(block)
        command = textwrap.dedent("\n".join(content)).strip("\n")
        if command.strip():
            result.commands.append(command)
    else:
        if verb not in ("none", "copy"):
            result.warn(f"'{{{{{body}}}}}' after a code block is not supported here; it is shown "
                        "as a plain code block")
        words = info.split()
        if words and words[0].lower() == "plain":
            info = " ".join(["text", *words[1:]])
        out.append(f"{fence}{info}")
        out.extend(content)
    out.append(fence)


def _unindent(line: str, indent: str) -> str:
    n = 0
    while n < len(indent) and n < len(line) and line[n] in " \t":
        n += 1
    return line[n:]


def _common_indent(lines: list[str]) -> str:
    indents = [line[:len(line) - len(line.lstrip())] for line in lines if line.strip()]
    return min(indents, key=len) if indents else ""


def _inline(line: str, result: Converted) -> tuple[str, list[tuple[str, bool]]]:
    """Converts the markers on one line outside code blocks; returns it and its {{exec}} commands."""
    for image in IMAGE.finditer(line):
        src = image.group("src") or image.group("html")
        if not re.match(r"^(https?:|data:)", src, re.IGNORECASE):
            result.warn(f"image '{src}' is a file of the scenario; the lab does not serve "
                        "scenario files, so it will not show")

    def traffic_link(m: re.Match) -> str:
        result.warn(f"links to {{{{{m.group('marker')}}}}} (Killercoda opens the VM's ports in the "
                    f"browser) became placeholder links (#lab-app-port-<port>, class "
                    f"{APP_LINK_CLASS}): the lab's app view does not exist yet")
        return app_link(m.group("label"), m.group("port"), m.group("rest"), m.group("host"))

    line = TRAFFIC_LINK.sub(traffic_link, line)
    commands: list[tuple[str, bool]] = []
    parts: list[str] = []
    pos = 0
    for span in CODE_SPAN.finditer(line):
        parts.append(_bare_markers(line[pos:span.start()], result))
        code_span = span.group(0)
        marker = span.group("marker")
        if marker is not None:
            code_span = code_span[:len(code_span) - len(marker) - 4]
            verb, args = parse_action(marker.strip())
            if verb == "exec":
                interrupt = _exec_args(args, marker.strip(), result)
                result.interrupts += int(interrupt)
                command = span.group("code").strip()
                commands.append((command, interrupt))
                result.commands.append(command)
            elif verb not in ("none", "copy"):
                result.warn(f"'{{{{{marker.strip()}}}}}' after inline code is not supported here; "
                            "it is shown as plain inline code")
        parts.append(code_span)
        pos = span.end()
    parts.append(_bare_markers(line[pos:], result))
    return "".join(parts), commands


def _bare_markers(text: str, result: Converted) -> str:
    """Markers in prose (not after code): traffic ports get words, Killercoda markers go away,
    and template text such as {{ .Values.x }} stays."""

    def replace(m: re.Match) -> str:
        space, body = m.group("space"), m.group("body")
        traffic = TRAFFIC.match(body)
        if traffic:
            result.warn(f"'{{{{{body}}}}}' (Killercoda opens the VM's ports in the browser) became "
                        f"a placeholder link (class {APP_LINK_CLASS}): the lab's app view does not "
                        "exist yet")
            return space + app_link("", traffic.group("port"), host=traffic.group("host"))
        if not body:
            return ""
        if IDENTIFIER.match(body):
            result.warn(f"'{{{{{body}}}}}' is not after any code, or is unknown; it was removed")
            return ""
        return m.group(0)

    return SPACED_MARKER.sub(replace, text)


def _plain_text_for_broken_yaml(body: str, result: Converted) -> str:
    """The lab checks that every yaml code block parses; a scenario's broken one becomes text."""
    lines = body.split("\n")
    for block in split_code_blocks(body):
        if block.lang not in ("yaml", "yml"):
            continue
        try:
            list(yaml.safe_load_all(block.text))
        except (yaml.YAMLError, RecursionError):  # a block nested thousands deep is broken too
            m = FENCE_RE.match(lines[block.line - 1])
            if m:
                lines[block.line - 1] = f"{m.group('indent')}{m.group('fence')}text"
                result.warn(f"a YAML code block (line {block.line} of the text) does not parse, "
                            "so it is shown as plain text")
    return "\n".join(lines)
