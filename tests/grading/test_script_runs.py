"""Script checks off the live loop: one run of a (sandbox, script) at a time, a pass that waits
only a moment, a callback when a run it gave up on ends, and Check that waits for a new run."""
import threading
import time

from courses.grading.script_runs import ScriptRuns

WAIT = 10  # the most any wait here may take: these are bounded, never sleeps to pass time


def _gated():
    """A script stand-in that runs until released, and counts its runs."""
    gate, runs = threading.Event(), []

    def script():
        runs.append(time.monotonic())
        assert gate.wait(WAIT)
        return (True, f"run {len(runs)}")

    return gate, runs, script


def test_a_slow_run_is_not_waited_for_and_its_end_is_announced():
    runs_pool = ScriptRuns(workers=2)
    gate, runs, script = _gated()
    ended = threading.Event()
    assert runs_pool.result_within("key", script, 0.2, on_late=ended.set) is None
    assert not ended.is_set()
    gate.set()
    assert ended.wait(WAIT)
    assert runs == [runs[0]]


def test_one_run_at_a_time_per_key_while_other_keys_run_beside_it():
    runs_pool = ScriptRuns(workers=4)
    gate, runs, script = _gated()
    other_gate, other_runs, other = _gated()
    other_gate.set()
    for _ in range(5):  # five live passes while it runs: still one run
        assert runs_pool.result_within("slow", script, 0.05) is None
    assert runs_pool.result_within("quick", other, WAIT) == (True, "run 1")  # not held up
    assert len(runs) == 1 and runs_pool.in_flight() == 1
    gate.set()
    assert runs_pool.result_within("slow", script, WAIT) in ((True, "run 1"), (True, "run 2"))


def test_a_fresh_check_waits_for_a_run_that_started_after_it_was_asked():
    runs_pool = ScriptRuns(workers=2)
    gate, runs, script = _gated()
    assert runs_pool.result_within("key", script, 0.05) is None  # a run in flight, from before
    answer = {}
    fresh = threading.Thread(target=lambda: answer.update(r=runs_pool.run_fresh("key", script, WAIT)))
    fresh.start()
    time.sleep(0.2)
    assert len(runs) == 1  # it waits for the older run, it does not start a second beside it
    gate.set()
    fresh.join(WAIT)
    assert answer["r"] == (True, "run 2") and len(runs) == 2


def test_a_scripts_exception_reaches_the_caller():
    runs_pool = ScriptRuns(workers=1)

    def broken():
        raise RuntimeError("the cluster is gone")

    try:
        runs_pool.result_within("key", broken, WAIT)
    except RuntimeError as exc:
        assert "gone" in str(exc)
    else:
        raise AssertionError("the error was swallowed")
