"""Comparisons used by resource checks, each with the words that explain a mismatch."""
from __future__ import annotations

import re

from courses.schema import COMPARISONS


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    try:
        return float(str(value))
    except (TypeError, ValueError):
        return None


def show(value) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return str(value)


def compare(op: str, found, wanted) -> tuple[bool, str]:
    """Returns (ok, what was expected in words)."""
    if op == "equals":
        ok = found == wanted or (found is not None and str(found) == str(wanted))
        return ok, show(wanted)
    if op == "not_equals":
        return not (found == wanted or str(found) == str(wanted)), f"anything but {show(wanted)}"
    if op in ("at_least", "at_most"):
        number = _number(found)
        ok = number is not None and (number >= wanted if op == "at_least" else number <= wanted)
        return ok, f"{'at least' if op == 'at_least' else 'at most'} {show(wanted)}"
    if op == "matches":
        return found is not None and re.search(wanted, str(found)) is not None, f"to match /{wanted}/"
    if op == "contains":
        if isinstance(found, list):
            return wanted in found or str(wanted) in [str(f) for f in found], f"to contain {show(wanted)}"
        return found is not None and str(wanted) in str(found), f"to contain {show(wanted)}"
    if op == "one_of":
        return found in wanted or str(found) in [str(w) for w in wanted], f"one of {show(wanted)}"
    raise ValueError(f"unknown comparison {op}")


def comparison_of(spec: dict) -> tuple[str, object]:
    for op in COMPARISONS:
        if op in spec:
            return op, spec[op]
    raise ValueError("no comparison")
