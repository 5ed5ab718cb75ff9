"""The one polling loop (sandboxes/polling.py) and the backends' wait on it."""
import time

import pytest

from sandboxes.backends.base import BackendError
from sandboxes.backends.kubeapi import wait_until
from sandboxes.polling import TimedOut, poll


def test_it_returns_the_first_truthy_result():
    answers = iter([None, 0, "", "ready", "later"])
    calls = []

    def predicate():
        calls.append(1)
        return next(answers)

    assert poll(predicate, time.monotonic() + 30, 0.01) == "ready"
    assert len(calls) == 4


def test_it_gives_up_at_the_deadline_keeping_the_last_error():
    def refused():
        raise ConnectionRefusedError("nobody listens")

    with pytest.raises(TimedOut) as caught:
        poll(refused, time.monotonic() + 0.2, 0.01)
    assert isinstance(caught.value.last_error, ConnectionRefusedError)
    assert "nobody listens" in str(caught.value)


def test_a_fatal_error_ends_the_wait_at_once():
    calls = []

    def broken():
        calls.append(1)
        raise PermissionError("no such binary")

    with pytest.raises(PermissionError):
        poll(broken, time.monotonic() + 30, 0.01, fatal=(PermissionError,))
    assert calls == [1]


def test_the_backends_wait_says_what_it_waited_for_and_why_not():
    def not_yet():
        raise ValueError("node worker-1 is NotReady")

    with pytest.raises(BackendError) as caught:
        wait_until(not_yet, time.monotonic() + 0.2, "the node to be Ready", interval=0.01)
    assert str(caught.value) == ("timed out waiting for the node to be Ready: "
                                 "ValueError: node worker-1 is NotReady")
    assert wait_until(lambda: {"ok": True}, time.monotonic() + 5, "anything") == {"ok": True}
