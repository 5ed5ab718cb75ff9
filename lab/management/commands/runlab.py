"""`manage.py runlab`: the whole lab on one machine, in one terminal.

Starts a loopback-only Redis (unless REDIS_URL points elsewhere or one already answers), then
uvicorn serving the ASGI app, a Celery worker and Celery beat. Their output is interleaved with a
prefix each. Ctrl-C (or SIGTERM) stops all of them; if one dies, the others are stopped too,
because a lab with no worker or no web server is not a lab.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import redis
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from lab import processes
from lab.env import env_int, env_str

STOP_GRACE_SECONDS = 15


class Command(BaseCommand):
    help = "Run the lab: Redis, the web server, a Celery worker and Celery beat."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=env_str("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=env_int("PORT", 8000, minimum=1))
        parser.add_argument("--no-migrate", action="store_true")

    def handle(self, *args, host, port, no_migrate, **options):
        self.children: list[tuple[str, subprocess.Popen]] = []
        self.stopping = threading.Event()
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        try:
            self._start_redis()
            if not no_migrate:
                call_command("migrate", interactive=False, verbosity=0)
            self._offer_full_tier()
            for role in processes.ROLES:
                self._spawn(role, processes.argv(role, host=host, port=port))
            self.stdout.write(self.style.SUCCESS(
                f"k8s-lab is starting on http://{host}:{port}/ (Ctrl-C stops everything)"))
            self._watch()
        finally:
            self._stop_all()

    # Tiers ---------------------------------------------------------------------------------
    def _offer_full_tier(self) -> None:
        """Offer full clusters too when they can run here (Docker answers and the node image is
        built, as after `make full-tier`), unless LAB_TIERS says which tiers to offer. The
        children read their settings from this environment."""
        if "LAB_TIERS" in os.environ or "full" in settings.LAB_TIERS:
            return
        from sandboxes.backends import get_backend

        health = get_backend("full").health()
        if health.get("ok"):
            os.environ["LAB_TIERS"] = ",".join([*settings.LAB_TIERS, "full"])
            self.stdout.write(f"full clusters (kind) offered too: Docker {health.get('docker')}, "
                              f"node image {health.get('node_image')}")
        else:
            self.stdout.write(f"full clusters (kind) not offered: {health.get('error')}. "
                              "`make run-full` builds and starts them.")

    # Redis ---------------------------------------------------------------------------------
    def _start_redis(self) -> None:
        url = urlparse(settings.REDIS_URL)
        if self._redis_answers():
            self._log("redis", f"using the Redis already running at {url.hostname}:{url.port}")
            return
        if url.hostname not in ("127.0.0.1", "localhost"):
            raise CommandError(f"Redis at {settings.REDIS_URL} does not answer")
        server = shutil.which("redis-server")
        if not server:
            raise CommandError("redis-server is not installed (make run installs it: "
                               "apt-get install redis-server)")
        data = Path(settings.DATA_DIR) / "redis"
        data.mkdir(parents=True, exist_ok=True)
        # Loopback only, no persistence: the queue and the channel layer are transient, the
        # database holds what must survive.
        self._spawn("redis", [server, "--bind", "127.0.0.1", "--port", str(url.port or 6379),
                              "--protected-mode", "yes", "--save", "", "--appendonly", "no",
                              "--dir", str(data)])
        for _ in range(100):
            if self._redis_answers():
                return
            time.sleep(0.1)
        raise CommandError("redis-server did not start within 10 seconds")

    def _redis_answers(self) -> bool:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    # Children ------------------------------------------------------------------------------
    def _spawn(self, name: str, argv: list[str]) -> None:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                cwd=settings.BASE_DIR)
        self.children.append((name, proc))
        threading.Thread(target=self._pump, args=(name, proc), daemon=True).start()

    def _pump(self, name: str, proc: subprocess.Popen) -> None:
        for raw in proc.stdout:
            self._log(name, raw.decode(errors="replace").rstrip())

    def _log(self, name: str, line: str) -> None:
        self.stdout.write(f"{name:>6} | {line}")

    def _on_signal(self, signum, frame) -> None:
        self.stopping.set()

    def _watch(self) -> None:
        while not self.stopping.wait(0.5):
            for name, proc in self.children:
                if proc.poll() is not None:
                    self.stderr.write(self.style.ERROR(
                        f"{name} exited with code {proc.returncode}; stopping the lab"))
                    self.stopping.set()
                    raise SystemExit(1)

    def _stop_all(self) -> None:
        # Stop in reverse order of start, so the worker and web go before Redis.
        for name, proc in reversed(self.children):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, proc in reversed(self.children):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._log(name, "did not stop in time; killing it")
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
        if self.children:
            self.stdout.write("k8s-lab stopped.")
