"""Where the scenarios are: one scenario folder, a repository's structure.json (nested up to three
levels), or every scenario folder below a folder that has neither."""
from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from courses.importers.killercoda.files import ScenarioError, inside, read_json
from courses.importers.killercoda.scenario import read_scenario
from courses.importers.model import ImportPlan

MAX_NESTING = 3


def read_source(src: Path, tier: str | None = None) -> ImportPlan:
    """Every scenario of src, read into courses; tier (api or full), when given, is the author's
    choice over the one the scenario's needs pick."""
    plan = ImportPlan()
    src = Path(src)
    if src.is_file() and src.name == "index.json":
        src = src.parent
    if not src.is_dir():
        plan.errors.append((str(src), "no such folder (give a scenario folder with index.json, "
                                      "or a folder with structure.json)"))
        return plan
    root = Path(os.path.realpath(src))
    label = root.name or "scenario"
    if (root / "index.json").is_file():
        found = [(label, root)]
    elif (root / "structure.json").is_file():
        found = _structure(root, root, plan, 0)
    else:
        found = _scan(root, root)
        if found:
            plan.warnings.append((label, f"no index.json or structure.json here: importing the "
                                         f"{len(found)} scenario folder(s) found below, in name "
                                         "order"))
        else:
            plan.errors.append((label, f"{root}: no index.json or structure.json, and no "
                                       "scenario folder below it"))
    for scenario_label, folder in found:
        try:
            plan.courses.append(read_scenario(folder, scenario_label, tier))
        except ScenarioError as exc:
            plan.errors.append((scenario_label, str(exc)))
    return plan


def _structure(root: Path, folder: Path, plan: ImportPlan, depth: int) -> list[tuple[str, Path]]:
    path = folder / "structure.json"
    where = str(path.relative_to(root)) if path != root / "structure.json" else "structure.json"
    try:
        data = read_json(path)
    except ScenarioError as exc:
        plan.errors.append((root.name, str(exc)))
        return []
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        plan.errors.append((root.name, f"{path}: must be an object with an 'items' list"))
        return []
    found: list[tuple[str, Path]] = []
    for number, item in enumerate(items, start=1):
        rel = item.get("path") if isinstance(item, dict) else None
        if not isinstance(rel, str) or not rel.strip():
            plan.warnings.append((root.name, f"{where}: item #{number} has no 'path'; skipped"))
            continue
        rel_to_root = os.path.relpath(os.path.join(folder, rel), root)
        label = PurePosixPath(rel_to_root).as_posix()
        target = inside(root, rel_to_root)
        if target is None:
            plan.warnings.append((rel, f"{where} lists '{rel}', which is outside "
                                       f"{root}; refused (nothing outside the source is read)"))
        elif not target.is_dir():
            plan.warnings.append((rel, f"listed in {where} but there is no such folder; "
                                       "skipped (the others are imported)"))
        elif (target / "index.json").is_file():
            found.append((label.rstrip("/"), target))
        elif (target / "structure.json").is_file() and depth < MAX_NESTING:
            found.extend(_structure(root, target, plan, depth + 1))
        else:
            plan.warnings.append((rel, f"listed in {where} but it has no index.json; skipped"))
    return found


def _scan(root: Path, folder: Path, depth: int = 0) -> list[tuple[str, Path]]:
    found = []
    for child in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if inside(root, os.path.relpath(child, root)) is None:
            continue
        if (child / "index.json").is_file():
            found.append((str(PurePosixPath(os.path.relpath(child, root))), child))
        elif depth < MAX_NESTING:
            found.extend(_scan(root, child, depth + 1))
    return found
