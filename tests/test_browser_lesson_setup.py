"""Real course content in a real browser: the lab panel says plainly when a lesson's setup failed
(its last lines, and a button that runs it again), a slow script check says it is still
checking while the others tick, and a lesson that needs a full cluster offers one button that
gets it. Real kwok cluster, worker, uvicorn and Debian's Chromium (the full tier is offered,
not started)."""
from pathlib import Path

import pytest
from django.conf import settings

from tests import harness
from tests.browser import browser_page, log_in
from tests.courses.setup_content import FLAKY, FLAKY_TAIL, write_course
from tests.processes import start_web
from tests.sandboxes.helpers import kubectl

pytestmark = [pytest.mark.browser, pytest.mark.cluster]

COURSE = """title: Shop
setup: |
  echo "the course is set up"
lessons: [flaky, waits]
"""
WAITS = """---
title: Waits
exercises:
  - slug: two-namespaces
    title: Two namespaces
    checks:
      - {kind: resource, id: quick, object: {kind: Namespace, name: quick-two}, exists: true}
      - kind: script
        id: slow
        timeout: 60
        script: |
          echo "=== Waiting ==="
          sleep 12
          kubectl get namespace slow-two >/dev/null && echo "✅ slow-two is there" || { echo "❌ no slow-two"; exit 1; }
    solution: {commands: kubectl create namespace quick-two; kubectl create namespace slow-two}
---
Text.
"""


@pytest.fixture(scope="module")
def shop_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("courses")
    write_course(root, "shop", COURSE, {"flaky": FLAKY, "waits": WAITS})
    return root


@pytest.fixture(scope="module", autouse=True)
def shop_worker(celery_worker, shop_dir):
    """Restarted first (a starting worker reconciles away clusters no sandbox names yet)."""
    bundled = Path(settings.BASE_DIR) / "courses" / "content"
    celery_worker.restart(COURSE_DIRS=f"{bundled},{shop_dir}")
    yield celery_worker
    celery_worker.restart()


@pytest.fixture(scope="module")
def shop_web(shop_dir, django_db_setup):
    """A lab that offers full clusters too, with this module's course beside the bundled one."""
    bundled = Path(settings.BASE_DIR) / "courses" / "content"
    port = harness.free_port()
    web = start_web(port, {"DATABASE_URL": f"sqlite:///{settings.DATABASES['default']['NAME']}",
                           "COURSE_DIRS": f"{bundled},{shop_dir}", "LAB_TIERS": "api,full"})
    yield f"http://127.0.0.1:{port}"
    web.stop()


def test_a_failed_setup_shows_its_last_lines_and_runs_again(shop_web, ready_sandbox, owner, password):
    with browser_page() as page:
        log_in(page, shop_web, owner.username, password)
        page.goto(f"{shop_web}/courses/shop/flaky/")
        failed = page.locator('#lab [data-setup-view="failed"]')
        failed.wait_for(state="visible", timeout=60000)
        text = failed.inner_text()
        assert "This lesson's setup failed" in text and "exit code 3" in text
        assert page.locator('#lab [data-bind="setup-tail"]').inner_text() == FLAKY_TAIL
        failed.locator("button", has_text="Run the setup again").click()
        page.locator('#lab [data-setup-view="done"]').wait_for(state="visible", timeout=60000)
        assert failed.is_hidden()


def test_a_slow_check_says_still_checking_while_the_others_tick(shop_web, ready_sandbox, owner,
                                                                password, api_cluster):
    _, kubeconfig = api_cluster
    with browser_page() as page:
        log_in(page, shop_web, owner.username, password)
        page.goto(f"{shop_web}/courses/shop/waits/")
        slow = page.locator('[data-check="slow"]')
        page.wait_for_selector('[data-check="slow"][data-state="checking"]', timeout=30000)
        assert slow.locator('[data-bind="message"]').inner_text().startswith("Still checking")
        try:
            kubectl(kubeconfig, "create", "namespace", "quick-two")
            kubectl(kubeconfig, "create", "namespace", "slow-two")
            page.wait_for_selector('[data-check="quick"][data-state="pass"]', timeout=15000)
            page.wait_for_selector('[data-check="slow"][data-state="pass"]', timeout=60000)
            assert slow.locator('[data-bind="message"]').inner_text() == "✅ slow-two is there"
        finally:
            for name in ("quick-two", "slow-two"):
                kubectl(kubeconfig, "delete", "namespace", name, "--wait=false", check=False)


def _cluster_buttons(page):
    """The visible buttons of the lab panel that start a cluster or switch to one."""
    return [b.inner_text() for b in page.locator("#lab button:visible").all()
            if b.inner_text().startswith(("Start", "Switch"))]


def test_a_lesson_that_needs_a_full_cluster_offers_one_button(shop_web, ready_sandbox, owner,
                                                             other, password):
    lesson = f"{shop_web}/courses/kubernetes-architecture/worker-nodes/"
    with browser_page() as page:
        log_in(page, shop_web, other.username, password)  # no cluster yet
        page.goto(lesson)
        assert _cluster_buttons(page) == ["Start your full cluster"]
        assert page.locator("#exercises button", has_text="full cluster").count() == 0
        assert "the button in the lab panel above" in page.locator(
            '[data-exercise="pod-logs"] [data-bind="needs"]').inner_text()
    with browser_page() as page:
        log_in(page, shop_web, owner.username, password)  # an API cluster, ready
        page.goto(lesson)
        page.wait_for_selector('#lab[data-state="ready"]', timeout=30000)
        assert _cluster_buttons(page) == ["Switch to your full cluster"]
        assert "Run a Pod and read its log" in page.locator('#lab [data-bind="why"]').inner_text()
        assert "replaces your current cluster" in page.locator('#lab [data-bind="replaces"]').inner_text()
        assert page.locator('#lab [data-bind="tier-label"]').inner_text() == "API cluster"
