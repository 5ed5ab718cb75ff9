"""A scenario's files, read safely: paths that stay inside the scenario folder, JSON with the
position of a mistake, and text files whose every problem becomes a warning."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path, PurePosixPath

ROOT_PATH = re.compile(r"(?<![\w/.$-])/root(?![\w.-])")


class ScenarioError(Exception):
    """A scenario that cannot be imported at all (its index.json does not parse)."""


def inside(base: Path, rel) -> Path | None:
    """base/rel when it stays inside base once resolved (links followed), else None."""
    if not isinstance(rel, str) or not rel.strip() or "\0" in rel:
        return None
    if PurePosixPath(rel).is_absolute() or rel.startswith("~"):
        return None
    real_base = os.path.realpath(base)
    real = os.path.realpath(os.path.join(real_base, rel))
    if real != real_base and not real.startswith(real_base.rstrip(os.sep) + os.sep):
        return None
    return Path(real)


# Far above any real scenario's index.json; reading is bounded before parsing starts.
MAX_JSON_BYTES = 1024 * 1024


def read_json(path: Path):
    """The parsed file; ScenarioError naming the file and the position of a JSON mistake."""
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise ScenarioError(f"{path}: larger than {MAX_JSON_BYTES // 1024} KiB; a scenario's "
                                "index.json or structure.json is a few KiB")
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg} "
                            f"(line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        # Python's parser recurses per nesting level: a hostile file nested 100,000 deep would
        # otherwise end the import with a traceback.
        raise ScenarioError(f"{path}: nested too deeply to be a scenario's description") from None


class ScenarioFiles:
    """One scenario folder and the warnings of its import. Every mapper reads through it, so no
    file outside the folder is ever read and every unreadable one is reported once."""

    def __init__(self, folder: Path, label: str):
        self.folder = Path(folder)
        self.label = label
        self.warnings: list[str] = []
        self.root_mentions: list[str] = []  # where '/root' (Killercoda's home) appears
        self.texts: list[tuple[str, str, str]] = []  # (where, what, text) of every file read

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def path(self, rel) -> Path | None:
        """The file rel names when it is inside the scenario and exists, else None (silently)."""
        path = inside(self.folder, rel)
        return path if path is not None and path.is_file() else None

    def read(self, rel, where: str, what: str) -> str | None:
        """A text file of the scenario, or None with a warning saying why."""
        if not isinstance(rel, str) or not rel.strip():
            self.warn(f"{where}: the {what} must be a file path; ignored")
            return None
        path = inside(self.folder, rel)
        if path is None:
            self.warn(f"{where}: the {what} '{rel}' is outside the scenario folder; refused "
                      "(nothing outside the scenario is read)")
            return None
        if not path.is_file():
            self.warn(f"{where}: the {what} '{rel}' does not exist")
            return None
        try:
            text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
        except UnicodeDecodeError:
            self.warn(f"{where}: the {what} '{rel}' is not UTF-8 text; it cannot be read")
        except OSError as exc:
            self.warn(f"{where}: the {what} '{rel}' cannot be read ({exc.strerror or exc})")
        else:
            self.texts.append((where, what, text))
            return text
        return None

    def mentions_root(self, text: str, place: str) -> None:
        if ROOT_PATH.search(text) and place not in self.root_mentions:
            self.root_mentions.append(place)
