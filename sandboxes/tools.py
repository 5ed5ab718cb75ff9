"""Where the lab's external programs are, and how to run one: argv lists only, always with a
timeout, and a failure turned into an error that repeats what the tool said."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from django.conf import settings


class ToolError(RuntimeError):
    """A tool was missing, timed out or failed; the message says which and what it printed."""


def tool_path(name: str) -> Path:
    """The toolchain's copy of a program (built by `make toolchain`), else one on PATH."""
    candidate = Path(settings.TOOLCHAIN_BIN) / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    raise ToolError(f"{name} is not installed: expected {candidate} (run `make toolchain`)")


def run(argv: list, timeout: float, env: dict | None = None, check: bool = True,
        input: str | None = None) -> subprocess.CompletedProcess:
    argv = [str(a) for a in argv]
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                                input=input, stdin=None if input is not None else subprocess.DEVNULL)
    except FileNotFoundError:
        raise ToolError(f"{argv[0]} is not installed") from None
    except subprocess.TimeoutExpired as exc:
        raise ToolError(f"{Path(argv[0]).name} {' '.join(argv[1:3])} timed out after "
                        f"{timeout:.0f}s: {_tail(exc.stderr or exc.stdout)}") from None
    if check and result.returncode != 0:
        said = _tail(result.stderr) or _tail(result.stdout) or "(no output)"
        raise ToolError(f"{Path(argv[0]).name} {' '.join(argv[1:3])} failed (exit "
                        f"{result.returncode}): {said}")
    return result


def _tail(text, limit: int = 600) -> str:
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    text = (text or "").strip()
    return text if len(text) <= limit else "…" + text[-limit:]
