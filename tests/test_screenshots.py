"""A test run leaves the tracked screenshots alone; `make screenshots` is what refreshes them."""
import subprocess

from tests.screenshots import README_SCREENSHOTS, ROOT, screenshot_dir


def _ignored_by_git(path) -> bool:
    return subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=ROOT).returncode == 0


def test_a_test_run_writes_its_pictures_where_git_does_not_look(monkeypatch):
    monkeypatch.delenv("UPDATE_SCREENSHOTS", raising=False)
    folder = screenshot_dir()
    assert folder != README_SCREENSHOTS
    assert _ignored_by_git(folder / "lesson.png")
    tracked = subprocess.run(["git", "ls-files", "--", str(folder)], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
    assert tracked == ""


def test_make_screenshots_writes_the_readme_pictures(monkeypatch):
    monkeypatch.setenv("UPDATE_SCREENSHOTS", "1")
    assert screenshot_dir() == README_SCREENSHOTS
    assert not _ignored_by_git(README_SCREENSHOTS / "lesson.png")
    recipe = subprocess.run(["make", "--dry-run", "screenshots"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60).stdout
    assert "UPDATE_SCREENSHOTS=1" in recipe and "tests/test_browser_course.py" in recipe
