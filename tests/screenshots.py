"""Where the browser tests put their pictures: a test run leaves the tracked tree as it found it
(test-artifacts/, which git ignores); `make screenshots` sets UPDATE_SCREENSHOTS=1 to refresh the
README's pictures in docs/screenshots/ on purpose."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACT_SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
README_SCREENSHOTS = ROOT / "docs" / "screenshots"


def screenshot_dir() -> Path:
    return README_SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else ARTIFACT_SCREENSHOTS


def screenshot(page, name: str) -> Path:
    """A picture of the page as name (e.g. "lesson.png") in screenshot_dir(); returns its path."""
    path = screenshot_dir() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    return path
