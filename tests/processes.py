"""The lab's real processes as the tests start them: bench/processes.py's helpers, with each
process's log in the session's data dir and the tests' environment less what is theirs alone."""
from __future__ import annotations

import os
from pathlib import Path

from bench import processes
from bench.processes import ROOT, WaitFailed, free_port, wait_for  # noqa: F401 - the tests' names

# The web server the tests start serves as `make run` does: no permessage-deflate (BENCHMARKS.md).
WEB_FLAGS = ("--ws-per-message-deflate", "false")


def child_env(extra: dict | None = None) -> dict:
    """The environment for a process the tests start: the test process's own, less what only the
    test process may have (the browser tests relax Django's async guard for themselves)."""
    env = {**os.environ, **(extra or {})}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


class Service(processes.Service):
    """A process of the test session: its log in LAB_DATA_DIR (tests/harness.py makes it)."""

    def __init__(self, name: str, argv: list[str], env: dict | None = None):
        super().__init__(name, argv, Path(os.environ["LAB_DATA_DIR"]), env=child_env(env))


def start_redis(port: int) -> Service:
    return processes.start_redis(Service, port, os.environ["LAB_DATA_DIR"], timeout=10)


def start_worker(extra_env: dict | None = None) -> Service:
    return processes.start_worker(Service, f"test-worker-{os.getpid()}@%h", env=extra_env)


def start_web(port: int, extra_env: dict | None = None) -> Service:
    return processes.start_web(Service, port, env=extra_env, extra=WEB_FLAGS)
