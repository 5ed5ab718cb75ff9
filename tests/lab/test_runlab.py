"""`make run`'s process supervisor: everything starts, /healthz answers, Ctrl-C stops it all."""
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from tests.harness import free_port
from tests.processes import ROOT, child_env, wait_for


def _pids_mentioning(marker: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in cmdline or marker.encode() in environ:
            pids.append(int(entry.name))
    return [pid for pid in pids if pid != os.getpid()]


def _healthz(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_runlab_starts_everything_and_stops_cleanly_on_ctrl_c(tmp_path):
    port, redis_port = free_port(), free_port()
    marker = f"runlab-test-{os.getpid()}-{port}"
    env = {**child_env(), "LAB_DATA_DIR": str(tmp_path), "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "CELERY_QUEUE": marker, "RUNLAB_TEST_MARKER": marker}
    env.pop("DATABASE_URL", None)
    log = open(tmp_path / "runlab.log", "wb")
    proc = subprocess.Popen([sys.executable, "manage.py", "runlab", "--port", str(port)], cwd=ROOT,
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        status, data = wait_for(lambda: _healthz(port) if _healthz(port)[1]["checks"]["worker"]["ok"] else None,
                                90, "runlab's /healthz with a worker")
        assert data["checks"]["database"]["ok"] and data["checks"]["redis"]["ok"]
        assert status == 200, data
        children = _pids_mentioning(marker)
        assert len(children) >= 4  # runlab, redis-server, uvicorn, celery worker (+ pool), beat
        # Ctrl-C in a terminal sends SIGINT to the whole foreground process group.
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=40) == 0
        wait_for(lambda: not _pids_mentioning(marker), 20, "every lab process to exit")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in _pids_mentioning(marker):
            os.kill(pid, signal.SIGKILL)
        log.close()
    output = (tmp_path / "runlab.log").read_text()
    assert "k8s-lab stopped." in output
