"""The shape of the code, checked: imports flow one way (lab → courses → sandboxes, classes on
top), no module imports itself back through others (imports inside functions included: they
hide cycles, they do not remove them), no module grows past 400 lines, and no tier is named
outside the tier registry and the backends."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("lab", "courses", "sandboxes", "classes")
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _imports(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The project's modules this one imports, anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for candidate in names:
            # `from a.b import c`: c may be a module (a.b.c) or a name in a.b.
            while candidate and candidate not in modules:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                targets.add(candidate)
    return targets


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, name, modules) for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules around it, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            # A package's __init__ importing its own submodules is how packages re-export.
            if target.startswith(node + "."):
                continue
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if state.get(target) is None:
                found = visit(target)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_import_graph_has_no_cycle():
    assert _cycle(_graph()) is None, " -> ".join(_cycle(_graph()) or [])


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_imports_flow_one_way():
    """sandboxes/ knows nothing of courses or classes; courses/ knows nothing of classes."""
    forbidden = {"sandboxes": ("courses", "classes"), "courses": ("classes",)}
    wrong = [f"{name} imports {target}" for name, targets in _graph().items()
             for target in targets
             if target.split(".")[0] in forbidden.get(name.split(".")[0], ())]
    assert wrong == []


def test_no_module_is_over_400_lines():
    long = {name: n for name, path in _modules().items()
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


TIER_LITERAL = re.compile(r"""(==|!=|\bin\b)\s*\(?\s*["'](api|full)["']|["'](api|full)["']\s*(==|!=)""")


def test_only_the_tier_registry_and_the_backends_name_a_tier():
    """Adding a tier is one backend module and one registry entry: nothing else compares a tier
    with a literal name (templates and scripts ask the registry)."""
    allowed = {ROOT / "sandboxes" / "tiers.py"}
    places = [p for app in APPS for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]
    places += list((ROOT / "templates").rglob("*.html")) + list((ROOT / "static" / "js").glob("*.js"))
    found = []
    for path in places:
        if path in allowed or "backends" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if TIER_LITERAL.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == []
