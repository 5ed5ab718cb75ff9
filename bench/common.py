"""What the benchmarks share: a private environment for the lab (its own data dir in /tmp, Redis
port, Celery queue and channel prefix), processes started in their own process groups and
stopped by id, RSS of a process tree read from /proc, machine facts and percentiles.

Nothing here imports the test suite; the benchmarks only use the product's public modules.
"""
from __future__ import annotations

import contextlib
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def log(*parts) -> None:
    """Progress goes to stderr; stdout carries only the JSON document."""
    print(f"[{time.strftime('%H:%M:%S')}]", *parts, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


# Processes ----------------------------------------------------------------------------------

def children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # the command name may contain spaces and parentheses: split after the last ')'
        ppid = int(stat[stat.rfind(b")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def descendants(pid: int, kids: dict | None = None) -> list[int]:
    kids = kids if kids is not None else children_map()
    out, todo = [], [pid]
    while todo:
        for child in kids.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def proc_kib(path: str, field: str) -> int:
    """A `Field:  N kB` value from a /proc file (0 when the file or the field is missing)."""
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kib(pid: int) -> int:
    return proc_kib(f"/proc/{pid}/status", "VmRSS")


def pss_kib(pid: int) -> int:
    return proc_kib(f"/proc/{pid}/smaps_rollup", "Pss")


def mem_available_gib() -> float:
    return round(proc_kib("/proc/meminfo", "MemAvailable") / 2 ** 20, 2)


def tree_rss_kib(pid: int) -> tuple[int, int, int]:
    """(RSS of pid, RSS of pid and all its descendants, number of processes) in KiB."""
    own = rss_kib(pid)
    kids = descendants(pid)
    return own, own + sum(rss_kib(k) for k in kids), 1 + len(kids)


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def pids_matching(needle: str) -> list[int]:
    """Processes whose command line contains needle (a unique temp path: our own processes)."""
    me = os.getpid()
    return [int(e) for e in os.listdir("/proc") if e.isdigit() and int(e) != me
            and needle in cmdline(int(e))]


def kill_pids(pids, sig=signal.SIGKILL) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


class Service:
    """A process in its own process group (session), with its output in a log file."""

    def __init__(self, name: str, argv: list[str], log_dir: Path, env: dict | None = None,
                 cwd: Path | str | None = None):
        self.name = name
        self.argv = argv
        self.log_path = Path(log_dir) / f"{name}.log"
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, cwd=cwd or ROOT, env=env or dict(os.environ),
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid = self.proc.pid
        self.seen: set[int] = set()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def remember_children(self) -> None:
        """Note the descendants now, so they can be killed by id even after re-parenting."""
        self.seen.update(descendants(self.pid))

    def output(self, tail: int = 3000) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-tail:]

    def stop(self, timeout: float = 15) -> None:
        self.remember_children()
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.proc.wait(10)
        # Children in sessions of their own (shells on PTYs) are not in our group.
        kill_pids(self.seen)
        self.log.close()


def wait_for(predicate, timeout: float, what: str, service: Service | None = None,
             interval: float = 0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if service is not None and not service.alive():
            raise RuntimeError(f"{service.name} exited while waiting for {what}:\n{service.output()}")
        try:
            result = predicate()
            if result:
                return result
        except Exception as exc:  # noqa: BLE001 - keep polling until the deadline
            last = exc
        time.sleep(interval)
    raise RuntimeError(f"timed out after {timeout}s waiting for {what} (last error: {last})")


# The lab's private environment -----------------------------------------------------------------

class LabEnv:
    """A data dir in /tmp, its own Redis, queue and channel prefix. Must be made before Django
    is imported: settings are read from the environment once."""

    def __init__(self, tag: str, extra: dict | None = None):
        self.tmp = Path(tempfile.mkdtemp(prefix=f"k8slab-bench-{tag}-", dir="/tmp"))
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
        service = Service(name, argv, self.logs, env={**os.environ, **(env or {})}, cwd=cwd)
        self.services.append(service)
        return service

    def start_redis(self) -> Service:
        server = shutil.which("redis-server")
        if not server:
            raise RuntimeError("redis-server is not installed (Debian package redis-server)")
        service = self.start("redis", [server, "--bind", "127.0.0.1", "--port", str(self.redis_port),
                                       "--save", "", "--appendonly", "no", "--dir", str(self.data)])
        import redis
        wait_for(lambda: redis.Redis(port=self.redis_port, socket_connect_timeout=0.2).ping(), 15,
                 "redis", service)
        return service

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
        shutil.rmtree(self.tmp, ignore_errors=True)


def save(name: str, document: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d-%H%M")
    path = RESULTS / f"{name}-{stamp}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path
