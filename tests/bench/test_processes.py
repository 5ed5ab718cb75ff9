"""The process helpers the tests and the benchmarks share (bench/processes.py), on real processes."""
import os
import sys
import textwrap

import pytest

from bench.processes import Service, WaitFailed, wait_for

# A parent that starts a child in a session of its own (as a jailed shell on a PTY is), says the
# child's pid, then waits: a signal to the parent's group does not reach that child.
PARENT_OF_A_STRAY = textwrap.dedent("""
    import subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"],
                             start_new_session=True)
    print(f"stray={child.pid}", flush=True)
    time.sleep(300)
""")


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _stray_of(service: Service) -> int:
    line = wait_for(lambda: "stray=" in service.output() and service.output(), 30, "the stray's pid",
                    service)
    return int(line.split("stray=")[1].split()[0])


def test_a_service_that_exits_ends_the_wait_at_once_with_its_log(tmp_path):
    service = Service("dies", ["sh", "-c", "echo 'cannot bind 127.0.0.1:6379' >&2; exit 3"],
                      tmp_path)
    try:
        with pytest.raises(WaitFailed) as caught:
            wait_for(lambda: False, 600, "it to answer", service)
        assert "dies exited while waiting for it to answer" in str(caught.value)
        assert "cannot bind 127.0.0.1:6379" in str(caught.value)
    finally:
        assert service.stop() == 3


def test_a_timeout_names_what_was_awaited_and_the_last_error():
    def refused():
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    with pytest.raises(WaitFailed) as caught:
        wait_for(refused, 0.3, "the web server", interval=0.02)
    assert str(caught.value) == ("timed out after 0.3s waiting for the web server (last error: "
                                 "ConnectionRefusedError: [Errno 111] Connection refused)")
    assert isinstance(caught.value, AssertionError)  # a test reports it as a failed expectation


def test_stopping_with_kill_strays_ends_children_outside_the_group(tmp_path):
    service = Service("parent", [sys.executable, "-c", PARENT_OF_A_STRAY], tmp_path,
                      kill_strays=True)
    stray = _stray_of(service)
    assert _running(stray)
    service.stop()
    wait_for(lambda: not _running(stray), 10, f"the stray {stray} to be gone")


def test_without_kill_strays_only_the_group_is_stopped(tmp_path):
    service = Service("parent", [sys.executable, "-c", PARENT_OF_A_STRAY], tmp_path)
    stray = _stray_of(service)
    try:
        service.stop()
        assert not service.alive()
        assert _running(stray)  # the default: a signal to the group, nothing more
    finally:
        os.kill(stray, 9)
