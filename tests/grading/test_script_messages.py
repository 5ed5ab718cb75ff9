"""The line a script check shows is the one that explains: a failure line, else the last line,
never a banner, and never a success line for a script that failed."""
from courses.grading.script_messages import failure_message, is_banner, success_message


def test_a_failing_script_shows_its_failure_line_not_its_banner_or_earlier_successes():
    out = ("==== Verifying step 2 ====\n🔍 Checking the deployment...\n✅ Namespace shop exists\n"
           "❌ Deployment web has 1 ready replica, expected 3\n✅ Service web exists\n")
    assert failure_message(out, "", 1) == "❌ Deployment web has 1 ready replica, expected 3"


def test_a_failing_script_never_shows_a_success_line():
    # The reviewer's case: a check that failed showed "✅ ConfigMap has the correct value".
    message = failure_message("✅ ConfigMap has the correct value\n", "", 1)
    assert "✅" not in message and "correct value" not in message
    assert "exited with code 1" in message


def test_fail_and_error_words_count_in_any_case_and_on_stderr_too():
    assert failure_message("checking\nFAIL: the pod is Pending\n", "", 2) == "FAIL: the pod is Pending"
    assert failure_message("", 'Error from server (NotFound): pods "web" not found\n', 1) == \
        'Error from server (NotFound): pods "web" not found'


def test_without_a_failure_line_the_last_plain_line_explains():
    out = "=== Step 1 ===\nonly 2 of 3 Pods are Running\nmore detail here\n------\n"
    assert failure_message(out, "", 1) == "more detail here"


def test_colours_are_taken_out_of_the_line():
    assert failure_message("\x1b[31m❌ wrong image\x1b[0m\n", "", 1) == "❌ wrong image"


def test_a_passing_script_shows_its_last_success_line_else_its_last_line():
    out = "=== Verifying ===\n✅ Namespace exists\n✅ ConfigMap has the correct value\n=====\n"
    assert success_message(out) == "✅ ConfigMap has the correct value"
    assert success_message("Checking...\nall 3 Pods are Running\n") == "all 3 Pods are Running"
    assert success_message("") == "Done."


def test_banners_are_decoration_titles_and_progress_lines():
    for line in ("=====", "*** ✨ ***", "=== Verifying step 1 ===", "Checking the pods...",
                 "🔍 Validating…"):
        assert is_banner(line), line
    for line in ("3 Pods are Running", "Checking: 2 of 3 ready", "FAIL: no pod"):
        assert not is_banner(line), line


def test_a_very_long_line_is_shortened():
    message = failure_message("ERROR " + "x" * 1000, "", 1)
    assert len(message) == 300 and message.endswith("…")
