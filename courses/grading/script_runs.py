"""Script checks run off the live grading loop: at most one run of each (sandbox, script) at a
time, in a small pool of threads, so a check that waits 40 s for a rollout neither holds the
lesson's other checks nor starts a second copy of itself every second.

A grading pass asks for a script's result and waits a moment (result_within); a script that
takes longer goes on in the background, the pass reports it as still checking, and when it ends
`on_late` is called (the caller pokes the learner's live grading, which then finds the result).
Pressing Check (run_fresh) waits for a run that started after it was pressed.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

# Scripts running at once in one web process, for every learner; more wait their turn (and show
# as still checking meanwhile). Each one is a bash and a kubectl or two in a jail.
WORKERS = 8


class _Run:
    def __init__(self, future: Future):
        self.future = future
        self.started = time.monotonic()
        self.late_callbacks: list = []
        self.lock = threading.Lock()


class ScriptRuns:
    def __init__(self, workers: int = WORKERS):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="script-check")
        self._running: dict = {}
        # Re-entrant: a run that ends before its callback is added calls _ended() at once, in
        # this thread, while _run() still holds the lock.
        self._lock = threading.RLock()

    def _run(self, key, fn) -> _Run:
        """The run of key in flight, or a new one of fn."""
        with self._lock:
            run = self._running.get(key)
            # A run whose end is not yet noted (its callback comes just after) is over.
            if run is None or run.future.done():
                run = _Run(self._pool.submit(fn))
                self._running[key] = run
                run.future.add_done_callback(lambda _f, key=key, run=run: self._ended(key, run))
            return run

    def _ended(self, key, run: _Run) -> None:
        with self._lock:
            if self._running.get(key) is run:
                del self._running[key]
        with run.lock:
            callbacks, run.late_callbacks = run.late_callbacks, []
        for callback in callbacks:
            callback()

    def result_within(self, key, fn, seconds: float, on_late=None):
        """fn's result (from the run in flight, or a new one) if it comes within seconds; else
        None, and on_late() is called once the run ends. fn's exception is raised here."""
        run = self._run(key, fn)
        try:
            return run.future.result(timeout=max(0.0, seconds))
        except FutureTimeout:
            if on_late is not None:
                with run.lock:
                    if not run.future.done():
                        run.late_callbacks.append(on_late)
                        return None
                on_late()
            return None

    def run_fresh(self, key, fn, timeout: float):
        """fn's result from a run that starts now or later: a run in flight that started
        earlier is waited for first (one at a time), not reused."""
        asked = time.monotonic()
        deadline = asked + timeout
        while True:
            run = self._run(key, fn)
            if run.started >= asked:
                return run.future.result(timeout=max(0.1, deadline - time.monotonic()))
            try:
                run.future.result(timeout=max(0.1, deadline - time.monotonic()))
            except FutureTimeout:
                raise
            except Exception:  # noqa: BLE001 - the older run's failure is not this one's
                continue

    def in_flight(self) -> int:
        with self._lock:
            return len(self._running)
