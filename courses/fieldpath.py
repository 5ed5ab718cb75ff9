"""A small path language for reaching into a Kubernetes object, used by checks.

    spec.replicas
    spec.template.spec.containers[name=my-app].image
    spec.template.spec.containers[0].ports[0].containerPort
    metadata.labels["app.kubernetes.io/name"]
    status.conditions[type=Available].status
    spec.containers[*].image            (every element: the result is a list)
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
    (?P<name>[A-Za-z_][A-Za-z0-9_\-]*)          # a plain key
    | \[(?P<index>\d+)\]                         # [0]
    | \[(?P<star>\*)\]                           # [*]
    | \["(?P<quoted>[^"]+)"\]                    # ["key.with.dots"]
    | \[(?P<key>[A-Za-z0-9_.\-/]+)=(?P<value>[^\]]*)\]   # [name=my-app]
    | (?P<dot>\.)
    """,
    re.VERBOSE,
)


class FieldPathError(ValueError):
    pass


@dataclass(frozen=True)
class Step:
    kind: str  # "key", "index", "match" or "all"
    key: str = ""
    index: int = 0
    value: str = ""


_MISSING = object()


def parse_field_path(path: str) -> list[Step]:
    if not path or not path.strip():
        raise FieldPathError("'field' is empty")
    steps: list[Step] = []
    pos = 0
    expect_name = True
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if not m:
            raise FieldPathError(f"field path {path!r}: cannot read it at {path[pos:]!r}")
        pos = m.end()
        if m.group("dot"):
            if expect_name:
                raise FieldPathError(f"field path {path!r}: a '.' with no key before it")
            expect_name = True
            continue
        if m.group("name") is not None:
            if not expect_name:
                raise FieldPathError(f"field path {path!r}: keys must be separated by '.'")
            steps.append(Step("key", key=m.group("name")))
        elif m.group("index") is not None:
            steps.append(Step("index", index=int(m.group("index"))))
        elif m.group("star"):
            steps.append(Step("all"))
        elif m.group("quoted") is not None:
            steps.append(Step("key", key=m.group("quoted")))
        else:
            steps.append(Step("match", key=m.group("key"), value=m.group("value")))
        expect_name = False
    if expect_name:
        raise FieldPathError(f"field path {path!r} ends with '.'")
    return steps


def resolve(obj, path: str):
    """Follow path into obj (plain dicts and lists). Returns None where the path is absent;
    a [*] step makes the result a list of the values found under each element."""
    values = _resolve(obj, parse_field_path(path))
    return values


def _resolve(value, steps: list[Step]):
    for i, step in enumerate(steps):
        if value is None:
            return None
        if step.kind == "key":
            value = value.get(step.key) if isinstance(value, dict) else None
        elif step.kind == "index":
            value = value[step.index] if isinstance(value, list) and step.index < len(value) else None
        elif step.kind == "match":
            if not isinstance(value, list):
                return None
            value = next(
                (item for item in value
                 if isinstance(item, dict) and str(item.get(step.key)) == step.value),
                None,
            )
        else:  # all
            if not isinstance(value, list):
                return None
            return [_resolve(item, steps[i + 1:]) for item in value]
    return value
