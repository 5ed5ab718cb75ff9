"""Shell integration: the learner's bash prints an invisible marker after every command,
ESC ] 7770 ; <exit code> ; <base64 command line> BEL, from PROMPT_COMMAND (images/toolbox/bashrc).
The terminal server takes the markers out of the output stream and records the commands, so a
check can ask "did the learner run kubectl cluster-info?" the same way for a local shell and a
shell inside a pod. It sees the command after editing, history recall and tab completion."""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

START = b"\x1b]7770;"
END = b"\x07"
MAX_MARK = 16384  # a marker longer than this is not ours: pass it through untouched


@dataclass(frozen=True)
class Command:
    line: str
    exit_code: int | None


class MarkExtractor:
    def __init__(self):
        self._pending = b""

    def feed(self, chunk: bytes) -> tuple[bytes, list[Command]]:
        """Returns (output without markers, commands found). A marker split across two chunks is
        held back until its end arrives."""
        data = self._pending + chunk
        self._pending = b""
        out = bytearray()
        commands: list[Command] = []
        pos = 0
        while True:
            begin = data.find(START, pos)
            if begin == -1:
                tail = _partial_start(data, pos)
                out += data[pos:len(data) - tail]
                self._pending = data[len(data) - tail:]
                break
            out += data[pos:begin]
            finish = data.find(END, begin + len(START))
            if finish == -1:
                if len(data) - begin > MAX_MARK:
                    out += data[begin:]
                else:
                    self._pending = data[begin:]
                break
            command = _parse(data[begin + len(START):finish])
            if command is None:
                out += data[begin:finish + 1]
            else:
                commands.append(command)
            pos = finish + 1
        return bytes(out), commands


def _partial_start(data: bytes, pos: int) -> int:
    """How many bytes at the end of data could be the beginning of a marker."""
    for length in range(min(len(START) - 1, len(data) - pos), 0, -1):
        if data.endswith(START[:length]):
            return length
    return 0


def _parse(body: bytes) -> Command | None:
    code, sep, encoded = body.partition(b";")
    if not sep:
        return None
    try:
        line = base64.b64decode(encoded, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return None
    try:
        exit_code = int(code)
    except ValueError:
        exit_code = None
    line = line.strip()
    return Command(line=line[:4000], exit_code=exit_code) if line else None
