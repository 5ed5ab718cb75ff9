"""Starting the lab's real processes (Redis, uvicorn, a Celery worker) for the tests and the
benchmarks, waiting for them, and stopping them by id: the one home of these helpers.

Each process runs in a process group (session) of its own with its output in a log file, so it
can be stopped as a whole and its log shown when it fails. The start_* functions take a
`start(name, argv, env=None) -> Service`: the tests and the benchmarks each keep their own
(where the log goes, which environment the process gets, who stops it). Nothing here imports
Django at module level: tests/harness.py loads this before settings are read.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench.procfs import descendants, kill_pids
from sandboxes.polling import TimedOut, describe, poll

ROOT = Path(__file__).resolve().parent.parent
LAB_APP = "lab.asgi:application"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """A process in its own process group (session), with its output in log_dir/<name>.log.

    kill_strays: when stopped, also kill by id the descendants it had, even re-parented ones;
    shells on PTYs start sessions of their own, outside the group a signal to the group reaches.
    """

    def __init__(self, name: str, argv: list[str], log_dir: Path | str, env: dict | None = None,
                 cwd: Path | str | None = None, kill_strays: bool = False):
        self.name = name
        self.argv = argv
        self.log_path = Path(log_dir) / f"{name}.log"
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, cwd=cwd or ROOT,
                                     env=env if env is not None else dict(os.environ),
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid = self.proc.pid
        self.kill_strays = kill_strays
        self.seen: set[int] = set()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def remember_children(self) -> None:
        """Note the descendants now, so they can be killed by id even after re-parenting."""
        self.seen.update(descendants(self.pid))

    def output(self, tail: int = 4000) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-tail:]

    def stop(self, timeout: float = 20, sig=signal.SIGTERM) -> int | None:
        """sig to the group, SIGKILL after timeout seconds; returns the exit code."""
        if self.kill_strays:
            self.remember_children()
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.proc.wait(10)
        if self.kill_strays:
            kill_pids(self.seen)
        self.log.close()
        return self.proc.returncode


class WaitFailed(AssertionError):
    """What was waited for never came, or its process exited first. An AssertionError, so a
    test reports it as the expectation that failed, with the process's log."""


def wait_for(predicate, timeout: float, what: str, service: Service | None = None,
             interval: float = 0.1):
    """predicate's first truthy result within timeout seconds; an exception it raises means "not
    yet". With service, a service that exits ends the wait at once, showing its log."""
    def attempt():
        if service is not None and not service.alive():
            raise WaitFailed(f"{service.name} exited while waiting for {what}:\n{service.output()}")
        return predicate()

    try:
        return poll(attempt, time.monotonic() + timeout, interval, fatal=(WaitFailed,))
    except TimedOut as timed_out:
        error = timed_out.last_error
        detail = f" (last error: {describe(error)})" if error else ""
        logs = f"\n{service.output()}" if service else ""
        raise WaitFailed(f"timed out after {timeout}s waiting for {what}{detail}{logs}") from None


def http_answers(port: int, path: str = "/", timeout: float = 5) -> bool:
    """True once an HTTP server answers on the port, whatever the status; raises until then."""
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout).close()
    except urllib.error.HTTPError:
        pass
    return True


def tcp_answers(port: int) -> bool:
    """True once something accepts connections on the port; raises until then."""
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


def start_redis(start, port: int, directory: Path | str, timeout: float = 15):
    """A private redis-server on loopback, nothing written to disk; answers when returned."""
    server = shutil.which("redis-server")
    if not server:
        raise RuntimeError("redis-server is not installed (Debian's redis-server; `make test` "
                           "installs it)")
    service = start("redis", [server, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                              "--appendonly", "no", "--dir", str(directory)])
    import redis
    wait_for(lambda: redis.Redis(port=port, socket_connect_timeout=0.2).ping(), timeout, "redis",
             service)
    return service


def uvicorn_argv(port: int, app: str = LAB_APP, extra: tuple = ()) -> list[str]:
    """uvicorn serving app on loopback as `make run` does: the websockets implementation, no
    lifespan, no access log; extra is added as it is."""
    return [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
            "--ws", "websockets", "--lifespan", "off", "--no-access-log", *extra]


def start_web(start, port: int, env: dict | None = None, app: str = LAB_APP, extra: tuple = (),
              name: str = "web", timeout: float = 60):
    """uvicorn serving the lab (or app); answers its login page when returned."""
    service = start(name, uvicorn_argv(port, app, extra), env=env)
    wait_for(lambda: http_answers(port, "/accounts/login/"), timeout, f"{name} (uvicorn)", service)
    return service


def start_worker(start, hostname: str, concurrency: int = 4, env: dict | None = None,
                 timeout: float = 60):
    """A Celery worker on the lab's queues; answers a ping when returned. Django must be set up
    in this process (the queue names and the ping come from the lab's settings)."""
    from sandboxes.lifecycle import worker_queues

    service = start("worker", [sys.executable, "-m", "celery", "-A", "lab", "worker",
                               "--loglevel", "INFO", "--concurrency", str(concurrency),
                               "--hostname", hostname, "--queues", worker_queues()], env=env)
    from lab.celery import app
    wait_for(lambda: app.control.ping(timeout=0.5, limit=1), timeout, "the Celery worker",
             service, 0.5)
    return service
