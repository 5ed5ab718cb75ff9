"""details.assets of a scenario: the files Killercoda copied onto the VM, as course assets placed
below the learner's home (a target outside the home keeps its path below it)."""
from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

from courses.importers.killercoda.files import ScenarioFiles, inside
from courses.importers.killercoda.text import listing
from courses.importers.model import Asset

ASSET_FIELDS = {"file", "target", "chmod"}
CHMOD_RE = re.compile(r"^(?:[0-7]{3,4}|[ugoa]*[-+=][rwxXst]*(?:,[ugoa]*[-+=][rwxXst]*)*)$")
HOME_PREFIXES = ("~", "/root", "$HOME", "${HOME}")


def read_assets(files: ScenarioFiles, spec) -> list[Asset]:
    if not isinstance(spec, dict):
        files.warn("details.assets is not an object; no assets imported")
        return []
    assets: dict[PurePosixPath, Asset] = {}
    placed: list[str] = []
    moved: list[str] = []
    for host, entries in spec.items():
        if host != "host01":
            files.warn(f"details.assets.{host}: the lab has one machine, so assets for "
                       f"'{host}' are not imported")
            continue
        if not isinstance(entries, list):
            files.warn(f"details.assets.{host} is not a list; ignored")
            continue
        for number, entry in enumerate(entries, start=1):
            where = f"details.assets.{host}[{number}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
                files.warn(f"{where} has no 'file'; skipped")
                continue
            for key in entry:
                if key not in ASSET_FIELDS:
                    files.warn(f"{where}: field '{key}' is not imported")
            pattern = entry["file"]
            target = entry.get("target")
            if not isinstance(target, str) or not target.strip():
                files.warn(f"{where}: no 'target'; '{pattern}' goes to the learner's home")
                target = "~"
            chmod = entry.get("chmod") or ""
            if chmod and not (isinstance(chmod, str) and CHMOD_RE.match(chmod.strip())):
                files.warn(f"{where}: chmod '{chmod}' is not understood; ignored")
                chmod = ""
            home_dir, in_home = home_relative(target)
            for source, rel in _asset_files(files, pattern, where):
                dest = home_dir / rel
                if dest in assets and assets[dest].source != source:
                    files.warn(f"{where}: '{dest}' is also another asset; the last one wins")
                assets[dest] = Asset(source=source, dest=dest, chmod=str(chmod).strip())
                line = f"{rel} -> ~/{dest}" + (f" (chmod {chmod})" if chmod else "")
                (placed if in_home else moved).append(
                    line if in_home else f"{rel} (target {target}) -> ~/{dest}")
    if placed or moved:
        message = (f"assets: {len(assets)} file(s) copied to the course's assets/ folder; "
                   "the lab puts them in the learner's home")
        if placed:
            message += ": " + listing(placed)
        files.warn(message)
    if moved:
        files.warn("assets whose target is outside the learner's home go below the home "
                   "instead: " + listing(moved))
    return list(assets.values())


def _asset_files(files: ScenarioFiles, pattern: str,
                 where: str) -> list[tuple[Path, PurePosixPath]]:
    """(file, path relative to the target folder) for each file the pattern names. A file keeps
    its path below the pattern's fixed part: app1/**/*.json puts app1/etc/a.json at
    <target>/etc/a.json, and a directory that matches is copied whole."""
    parts = PurePosixPath(pattern).parts
    if PurePosixPath(pattern).is_absolute() or ".." in parts or not parts:
        files.warn(f"{where}: asset '{pattern}' is outside the scenario's assets/ folder; "
                   "refused (nothing outside the scenario is read)")
        return []
    fixed = []
    for part in parts[:-1]:
        if any(c in part for c in "*?["):
            break
        fixed.append(part)
    folder = files.folder
    assets_dir = folder / "assets"
    base = assets_dir.joinpath(*fixed)
    matches = sorted(assets_dir.glob(pattern)) if assets_dir.is_dir() else []
    found: dict[PurePosixPath, Path] = {}
    for match in matches:
        real = inside(folder, os.path.relpath(match, folder))
        if real is None:
            files.warn(f"{where}: asset '{match.name}' links outside the scenario folder; "
                       "refused")
            continue
        rel = PurePosixPath(*match.relative_to(base).parts)
        if real.is_file():
            found[rel] = real
        elif real.is_dir():
            for sub in sorted(p for p in real.rglob("*") if p.is_file()):
                sub_real = inside(folder, os.path.relpath(sub, folder))
                if sub_real is None:
                    files.warn(f"{where}: asset '{sub.name}' links outside the scenario "
                               "folder; refused")
                    continue
                found[rel.joinpath(*sub.relative_to(real).parts)] = sub_real
    if not found:
        files.warn(f"{where}: asset '{pattern}' matches no file in the scenario's assets/ "
                   "folder; skipped")
    return [(source, rel) for rel, source in found.items()]


def home_relative(target: str) -> tuple[PurePosixPath, bool]:
    """(folder relative to the learner's home, whether the target was in the home at all). A
    target outside the home keeps its path below the home (/usr/local/bin -> ~/usr/local/bin),
    so two targets never collide."""
    target = target.strip()
    in_home = True
    rest = target
    for prefix in HOME_PREFIXES:
        if target == prefix or target.startswith(prefix + "/"):
            rest = target[len(prefix):]
            break
    else:
        in_home = not target.startswith("/")
    parts = [p for p in PurePosixPath(rest.strip("/") or ".").parts if p not in ("", ".")]
    if ".." in parts:
        return PurePosixPath(), False
    return PurePosixPath(*parts) if parts else PurePosixPath(), in_home
