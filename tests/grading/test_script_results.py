"""The script checks' result cache stays small: a result lives a few seconds, and only so many."""
import time

from courses.grading.checks import SCRIPT_REUSE_SECONDS, RecentResults, _script_results

PASSED = (True, "Done.")


def test_a_result_is_reused_only_while_the_last_command_is_the_same():
    cache = RecentResults(seconds=60, most=10)
    cache.put(("sandbox-1", "kubectl get ns"), 7, PASSED)
    assert cache.get(("sandbox-1", "kubectl get ns"), 7) == PASSED
    assert cache.get(("sandbox-1", "kubectl get ns"), 8) is None  # the learner ran a command
    assert cache.get(("sandbox-2", "kubectl get ns"), 7) is None


def test_it_holds_no_more_than_its_cap_and_the_oldest_go_first():
    cache = RecentResults(seconds=60, most=3)
    for n in range(5):
        cache.put(("sandbox", f"script {n}"), None, (n % 2 == 0, f"run {n}"))
    assert len(cache) == 3
    assert [cache.get(("sandbox", f"script {n}"), None) for n in range(5)] == [
        None, None, (True, "run 2"), (False, "run 3"), (True, "run 4")]


def test_storing_a_result_again_makes_it_the_newest():
    cache = RecentResults(seconds=60, most=2)
    cache.put("a", None, PASSED)
    cache.put("b", None, PASSED)
    cache.put("a", None, PASSED)
    cache.put("c", None, PASSED)
    assert cache.get("a", None) == PASSED and cache.get("b", None) is None


def test_expired_results_are_not_reused_and_are_dropped_by_the_next_store():
    cache = RecentResults(seconds=0.05, most=100)
    cache.put("old-1", None, PASSED)
    cache.put("old-2", None, PASSED)
    time.sleep(0.1)  # twice the lifetime: both are expired, whatever the machine's load
    assert cache.get("old-1", None) is None
    cache.put("new", None, PASSED)
    assert len(cache) == 1 and cache.get("new", None) == PASSED


def test_the_lab_keeps_script_results_for_five_seconds_in_a_bounded_cache():
    assert isinstance(_script_results, RecentResults)
    assert _script_results.seconds == SCRIPT_REUSE_SECONDS == 5.0
    assert 0 < _script_results.most <= 10000
