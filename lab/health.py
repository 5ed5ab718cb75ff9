"""The state of everything the lab needs, for /healthz and for operators."""
from __future__ import annotations

import time

from django.conf import settings
from django.db import connection


def _timed(fn) -> dict:
    started = time.monotonic()
    try:
        detail = fn() or {}
        result = {"ok": True, **detail}
    except Exception as exc:  # noqa: BLE001 - any failure is the answer we report
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    result["ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"engine": connection.vendor}


def _redis():
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return {}


def _worker():
    from lab.celery import app

    # limit=1 returns at the first reply instead of always waiting out the timeout.
    replies = app.control.ping(timeout=settings.HEALTHZ_WORKER_TIMEOUT, limit=1)
    workers = sorted(name for reply in replies for name in reply)
    if not workers:
        raise RuntimeError("no Celery worker answered a ping")
    return {"workers": workers}


def _sandboxes():
    from sandboxes import liveness

    return liveness.counts()


def report() -> tuple[bool, dict]:
    """Returns (healthy, details). Healthy means the database, Redis, a Celery worker and the
    backend of every enabled sandbox tier are up. How many of this host's ready clusters
    answer is reported too, but never makes the lab unhealthy: one learner's dead cluster is
    the reconciler's to restart or fail, not a reason to take the lab out of service."""
    from sandboxes.backends import backend_health

    checks = {"database": _timed(_database), "redis": _timed(_redis)}
    # Without Redis a worker ping would only wait out its timeout; say so directly instead.
    checks["worker"] = _timed(_worker) if checks["redis"]["ok"] else {
        "ok": False, "error": "Redis is down, so no worker can be reached"}
    backends = backend_health()
    down = [name for name, state in checks.items() if not state["ok"]]
    down += [f"backend:{tier}" for tier, state in backends.items()
             if state["enabled"] and not state["ok"]]
    sandboxes = _timed(_sandboxes) if checks["database"]["ok"] else {
        "ok": False, "error": "the database is down, so no sandbox can be found"}
    return not down, {"status": "ok" if not down else "down", "down": down,
                      "checks": checks, "sandbox_backends": backends, "sandboxes": sandboxes}
