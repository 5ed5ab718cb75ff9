"""The command line of each of the lab's processes (web, worker, beat): one place, so `manage.py
runlab` on one machine and `manage.py runrole` in the containers start exactly the same things."""
from __future__ import annotations

import os
import sys

from django.conf import settings

from lab.env import env_int
from sandboxes.dispatch import worker_queues

ROLES = ("web", "worker", "beat")


def web_argv(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "lab.asgi:application", "--host", host,
            "--port", str(port), "--ws", "websockets", "--lifespan", "off",
            # Terminal output gains little from compression on a LAN and costs CPU and latency
            # (BENCHMARKS.md).
            "--ws-per-message-deflate", "false",
            "--no-access-log" if not settings.DEBUG else "--access-log",
            "--timeout-graceful-shutdown", "5"]


def worker_argv() -> list[str]:
    # The shared queue and this host's own (deletes and reconcile are sent there).
    return [sys.executable, "-m", "celery", "-A", "lab", "worker", "--loglevel", "INFO",
            "--concurrency", str(env_int("WORKER_CONCURRENCY", 4, 1)),
            "--hostname", f"worker@{os.uname().nodename}", "--queues", worker_queues()]


def beat_argv() -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "lab", "beat", "--loglevel", "INFO",
            "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME]


def argv(role: str, host: str = "127.0.0.1", port: int = 8000) -> list[str]:
    if role == "web":
        return web_argv(host, port)
    if role == "worker":
        return worker_argv()
    if role == "beat":
        return beat_argv()
    raise ValueError(f"unknown role {role!r} (expected one of {', '.join(ROLES)})")
