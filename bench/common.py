"""What the benchmarks share: a private environment for the lab (its own data dir in /tmp, Redis
port, Celery queue and channel prefix), the run's JSON document (machine facts, percentiles, the
saved copy) and a logged-in session for a benchmark's clients.

Processes and waiting are bench/processes.py's, /proc readings bench/procfs.py's. Nothing here
imports the test suite; the benchmarks only use the product's public modules.
"""
from __future__ import annotations

import contextlib
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.processes import ROOT, Service, free_port, start_redis
from bench.procfs import kill_pids, pids_matching, proc_kib

RESULTS = ROOT / "bench" / "results"


def log(*parts) -> None:
    """Progress goes to stderr; stdout carries only the JSON document."""
    print(f"[{time.strftime('%H:%M:%S')}]", *parts, file=sys.stderr, flush=True)


def machine() -> dict:
    mem_kb = proc_kib("/proc/meminfo", "MemTotal")
    return {"nproc": os.cpu_count(), "memory_gib": round(mem_kb / 2 ** 20, 1),
            "kernel": os.uname().release, "python": sys.version.split()[0],
            "loadavg_start": list(os.getloadavg()), "uptime_start": uptime()}


def finish(name: str, results: dict, started: float, save_it: bool) -> None:
    """Close a run's document (the machine's load at the end, the run's length), print it on
    stdout and, when asked, keep a copy in bench/results/."""
    results["machine"]["loadavg_end"] = load()
    results["machine"]["uptime_end"] = uptime()
    results["seconds"] = round(time.time() - started, 1)
    print(json.dumps(results, indent=2))
    if save_it:
        log(f"saved {save(name, results)}")


def login_session_key(user) -> str:
    """A logged-in session for this user, as the login page would make (its key is the
    `sessionid` cookie the benchmark's clients send)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def pct(values, p: float):
    """The p-th percentile (nearest rank on the sorted values), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def summary_ms(samples_s: list[float]) -> dict:
    ms = [s * 1000 for s in samples_s]
    if not ms:
        return {"n": 0}
    return {"n": len(ms), "p50": round(pct(ms, 50), 3), "p90": round(pct(ms, 90), 3),
            "p99": round(pct(ms, 99), 3), "max": round(max(ms), 3), "min": round(min(ms), 3)}


# The lab's private environment -----------------------------------------------------------------

class LabEnv:
    """A data dir in /tmp, its own Redis, queue and channel prefix. Must be made before Django
    is imported: settings are read from the environment once."""

    def __init__(self, tag: str, extra: dict | None = None):
        # Short: a sandbox's unix sockets live below the data dir, and such a path has at most
        # 107 bytes (/tmp/klab-grading-XXXXXXXX/data/sandboxes/<uuid>/c1234567/apiserver.sock).
        self.tmp = Path(tempfile.mkdtemp(prefix=f"klab-{tag}-", dir="/tmp"))
        # mkdtemp makes it 0700; a jailed shell's uid must traverse it to reach its home.
        os.chmod(self.tmp, 0o755)
        self.data = self.tmp / "data"
        self.data.mkdir(mode=0o755)
        self.logs = self.tmp / "logs"
        self.logs.mkdir()
        self.redis_port = free_port()
        self.tag = f"bench-{tag}-{os.getpid()}"
        self.env = {
            "LAB_DATA_DIR": str(self.data),
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "CELERY_QUEUE": self.tag,
            "CHANNELS_PREFIX": f"k8slab-{self.tag}",
            "SECRET_KEY": "bench-only-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SETTINGS_MODULE": "lab.settings",
            **(extra or {}),
        }
        os.environ.pop("DATABASE_URL", None)
        os.environ.update(self.env)
        self.services: list[Service] = []

    def start(self, name, argv, env=None, cwd=None) -> Service:
        """A process of this run: stopped by stop_all, with the shells it started."""
        service = Service(name, argv, self.logs, env={**os.environ, **(env or {})}, cwd=cwd,
                          kill_strays=True)
        self.services.append(service)
        return service

    def start_redis(self) -> Service:
        return start_redis(self.start, self.redis_port, self.data)

    def django(self) -> None:
        import django
        django.setup()
        from django.core.management import call_command
        call_command("migrate", verbosity=0, interactive=False)
        # Pages name their static files through the manifest, as under `make run`.
        call_command("collectstatic", verbosity=0, interactive=False)

    def stop_all(self) -> None:
        for service in reversed(self.services):
            with contextlib.suppress(Exception):
                service.stop()
        self.services.clear()

    def remove(self) -> None:
        # Anything still running from our temp dir (a cluster's components) is ours: end it.
        kill_pids(pids_matching(str(self.tmp)))
        self.release_jails()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def release_jails(self) -> None:
        """Each sandbox's jail removed as the product removes it (its cgroups, its home's own
        filesystem): the benchmarks make sandboxes without stopping them, and rmtree alone would
        leave every home mounted, with its loop device."""
        directories = self.data / "sandboxes"
        if not directories.is_dir():
            return
        from sandboxes.jail.layout import JailLayout  # Django is set up once a jail exists

        for directory in directories.iterdir():
            try:
                JailLayout(directory, directory.name).remove()
            except Exception as exc:  # noqa: BLE001 - the next one is still worth releasing
                log(f"could not release the jail in {directory}: {exc}")


def save(name: str, document: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d-%H%M")
    path = RESULTS / f"{name}-{stamp}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path
