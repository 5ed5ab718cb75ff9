"""Starting and stopping the lab's real processes for tests, and waiting for them."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child_env(extra: dict | None = None) -> dict:
    """The environment for a process the tests start: the test process's own, less what only the
    test process may have (the browser tests relax Django's async guard for themselves)."""
    env = {**os.environ, **(extra or {})}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


class Service:
    def __init__(self, name: str, argv: list[str], env: dict | None = None):
        self.name = name
        self.log_path = Path(os.environ["LAB_DATA_DIR"]) / f"{name}.log"
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=child_env(env),
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self, sig=signal.SIGTERM, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def wait_for(predicate, timeout: float, what: str, service: Service | None = None, interval=0.1):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        if service is not None and not service.alive():
            raise AssertionError(f"{service.name} exited while waiting for {what}:\n{service.output()}")
        try:
            result = predicate()
            if result:
                return result
        except Exception as exc:  # noqa: BLE001 - keep polling until the deadline
            last_error = exc
        time.sleep(interval)
    detail = f" (last error: {last_error})" if last_error else ""
    logs = f"\n{service.output()}" if service else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}{detail}{logs}")


def start_redis(port: int) -> Service:
    server = shutil.which("redis-server")
    if not server:
        raise RuntimeError("redis-server is not installed: run `make test`, which installs it")
    service = Service("redis", [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                                "--appendonly", "no", "--dir", os.environ["LAB_DATA_DIR"]])
    import redis
    wait_for(lambda: redis.Redis(port=port, socket_connect_timeout=0.2).ping(), 10, "redis", service)
    return service


def start_worker(extra_env: dict | None = None) -> Service:
    from sandboxes.lifecycle import worker_queues
    service = Service("worker", [sys.executable, "-m", "celery", "-A", "lab", "worker",
                                 "--loglevel", "INFO", "--concurrency", "4",
                                 "--hostname", f"test-worker-{os.getpid()}@%h",
                                 "--queues", worker_queues()], env=extra_env)
    from lab.celery import app
    wait_for(lambda: app.control.ping(timeout=0.5, limit=1), 60, "the Celery worker", service, 0.5)
    return service


def start_web(port: int, extra_env: dict | None = None) -> Service:
    service = Service("web", [sys.executable, "-m", "uvicorn", "lab.asgi:application",
                              "--host", "127.0.0.1", "--port", str(port), "--ws", "websockets",
                              "--lifespan", "off", "--no-access-log", "--ws-per-message-deflate", "false"],
                      env=extra_env)
    wait_for(lambda: _answers(port), 60, "the web server", service)
    return service


def _answers(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5)
        return True
    except urllib.error.HTTPError:
        return True
