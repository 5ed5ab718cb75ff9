"""The shape of course.yaml's `nodes`: the cluster a course was written for (node names, roles,
labels and taints), which the backends build."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from courses.schema import Collector, check_fields
from courses.yaml_lines import LineDict, LineList

NODE_FIELDS = {"name": str, "role": str, "labels": dict, "taints": list}
NODE_ROLES = ("control-plane", "worker")
MAX_NODES = 8  # a bound, so one course cannot ask for a fleet
TAINT_FIELDS = {"key": str, "value": str, "effect": str}
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
NODE_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")  # a DNS-1123 label
LABEL_NAME_RE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
LABEL_PREFIX_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


@dataclass
class CourseNode:
    name: str
    role: str  # control-plane or worker
    labels: dict[str, str] = field(default_factory=dict)
    taints: list[dict] = field(default_factory=list)  # {key, value (optional), effect}


def parse_nodes(raw) -> list[CourseNode]:
    """The well-formed entries of a `nodes` list (a course with mistakes in it still loads;
    validate_courses reports them)."""
    nodes = []
    for node in raw if isinstance(raw, list) else []:
        if not isinstance(node, dict) or node.get("role") not in NODE_ROLES:
            continue
        if not isinstance(node.get("name"), str) or not NODE_NAME_RE.match(node["name"]):
            continue
        labels = node.get("labels") if isinstance(node.get("labels"), dict) else {}
        taints = [dict(t) for t in node.get("taints") or [] if isinstance(t, dict)
                  and isinstance(t.get("key"), str) and t.get("effect") in TAINT_EFFECTS]
        nodes.append(CourseNode(name=node["name"], role=node["role"],
                                labels={str(k): str(v) for k, v in labels.items()},
                                taints=taints))
    return nodes


def check_nodes(c: Collector, nodes: list, line: int) -> None:
    """course.yaml's `nodes`: named, unique, a role each, at least one control plane."""
    if not nodes:
        c.add(line, "course: 'nodes' is empty: leave it out for the tier's own cluster")
        return
    if len(nodes) > MAX_NODES:
        c.add(line, f"course: 'nodes' lists {len(nodes)} nodes; at most {MAX_NODES}")
    names: set[str] = set()
    for index, node in enumerate(nodes):
        here = f"course node #{index + 1}"
        node_line = nodes.line_of_item(index) if isinstance(nodes, LineList) else line
        if not isinstance(node, LineDict):
            c.add(node_line, f"{here} must be a mapping with name and role")
            continue
        name = node.get("name")
        if isinstance(name, str):
            here = f"course node '{name}'"
        check_fields(c, node, NODE_FIELDS, here, required=("name", "role"))
        if isinstance(name, str) and name:
            if not NODE_NAME_RE.match(name):
                c.add(node.line_of("name"), f"{here}: a node name is lowercase letters, digits "
                                            "and dashes, at most 63")
            elif name in names:
                c.add(node.line_of("name"), f"duplicate node name '{name}'")
            names.add(name)
        role = node.get("role")
        if role is not None and role not in NODE_ROLES:
            c.add(node.line_of("role"), f"{here}: role '{role}' is not {' or '.join(NODE_ROLES)}")
        if isinstance(node.get("labels"), LineDict):
            _check_labels(c, node["labels"], here)
        if isinstance(node.get("taints"), list):
            _check_taints(c, node["taints"], node.line_of("taints"), here)
    roles = [n.get("role") if isinstance(n, dict) else None for n in nodes]
    # Only once every node has a role: a node that is not even a mapping is the mistake then.
    if None not in roles and "control-plane" not in roles:
        c.add(line, "course: 'nodes' needs a node with role control-plane")


def _check_labels(c: Collector, labels: LineDict, here: str) -> None:
    for key, value in labels.items():
        prefix, _, name = str(key).rpartition("/")
        if not LABEL_NAME_RE.match(name) or (prefix and (len(prefix) > 253
                                                         or not LABEL_PREFIX_RE.match(prefix))):
            c.add(labels.line_of(key), f"{here}: '{key}' is not a label key ([prefix/]name, "
                                       "name at most 63 letters, digits, '-', '_' or '.')")
        if not isinstance(value, str) or (value and not LABEL_NAME_RE.match(value)):
            c.add(labels.line_of(key), f"{here}: label '{key}' must be text of at most 63 "
                                       "letters, digits, '-', '_' or '.' (quote it: \"true\")")


def _check_taints(c: Collector, taints: list, line: int, here: str) -> None:
    for index, taint in enumerate(taints):
        where = f"{here} taint #{index + 1}"
        if not isinstance(taint, LineDict):
            c.add(line, f"{where} must be a mapping with key and effect")
            continue
        check_fields(c, taint, TAINT_FIELDS, where, required=("key", "effect"))
        key = taint.get("key")
        if isinstance(key, str) and key:
            prefix, _, name = key.rpartition("/")
            if not LABEL_NAME_RE.match(name) or (prefix and not LABEL_PREFIX_RE.match(prefix)):
                c.add(taint.line_of("key"), f"{where}: '{key}' is not a taint key")
        value = taint.get("value")
        if isinstance(value, str) and value and not LABEL_NAME_RE.match(value):
            c.add(taint.line_of("value"), f"{where}: value '{value}' is not a valid taint value")
        effect = taint.get("effect")
        if effect is not None and effect not in TAINT_EFFECTS:
            c.add(taint.line_of("effect"), f"{where}: effect '{effect}' is not one of "
                                           f"{', '.join(TAINT_EFFECTS)}")
