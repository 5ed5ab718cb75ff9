"""Polling until a condition holds or a deadline passes: the one loop behind the backends' waits
and the tests' and benchmarks' waits (bench/processes.py), so they all give up the same way.

No Django here: the test harness and the benchmarks import it before settings are read.
"""
from __future__ import annotations

import time


class TimedOut(Exception):
    """The deadline passed; last_error is the last exception the condition raised, if any."""

    def __init__(self, last_error: Exception | None):
        super().__init__(describe(last_error) if last_error else "the deadline passed")
        self.last_error = last_error


def poll(predicate, deadline: float, interval: float, fatal=()):
    """Call predicate every interval seconds until it returns something truthy (returned) or the
    monotonic deadline passes (TimedOut). Exceptions of the types in fatal end the wait at once;
    any other exception means "not yet", and the last one is kept to say why it never was."""
    last_error = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except fatal:
            raise
        except Exception as exc:  # noqa: BLE001 - not ready yet; keep the last reason
            last_error = exc
        time.sleep(interval)
    raise TimedOut(last_error)


def describe(exc: Exception) -> str:
    """An exception in one line of at most about 300 characters, for a timeout's message."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) < 300 else text[:300] + "…"
