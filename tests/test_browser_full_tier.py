"""The full tier in a real browser: a learner with an API cluster from an earlier lesson opens
the worker-nodes lesson, whose exercises need real containers; the lab panel's one button
switches them to a full (kind) cluster; the terminal follows into the toolbox pod, a real Pod
runs and logs, and the checks turn green by themselves. Real Docker, kind, worker and Chromium;
skipped where the full tier is not built."""
import pytest
from django.conf import settings

from sandboxes.backends import get_backend
from tests import harness
from tests.browser import browser_page, log_in, type_in_terminal, wait_terminal
from tests.processes import start_web
from tests.screenshots import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.cluster]
LESSON = "/courses/kubernetes-architecture/worker-nodes/"
EARLIER = "/courses/kubernetes-architecture/what-is-kubernetes/"


@pytest.fixture
def full_tier_lab(celery_worker, transactional_db):
    health = get_backend("full").health()
    if not health.get("ok"):
        pytest.skip(f"the full tier is not built here: {health.get('error')}")
    env = {"DATABASE_URL": f"sqlite:///{settings.DATABASES['default']['NAME']}",
           "LAB_TIERS": "api,full"}
    celery_worker.restart(LAB_TIERS="api,full")
    port = harness.free_port()
    web = start_web(port, env)
    yield f"http://127.0.0.1:{port}"
    web.stop()
    from tests.sandboxes.helpers import stop_all_and_wait
    stop_all_and_wait(timeout=300)
    celery_worker.restart()


def test_a_learner_switches_to_a_full_cluster_and_reads_a_real_pods_log(full_tier_lab, owner, password):
    with browser_page() as page:
        page.on("dialog", lambda dialog: dialog.accept())
        log_in(page, full_tier_lab, owner.username, password)
        # An API cluster first, started from an earlier lesson that needs nothing more.
        page.goto(full_tier_lab + EARLIER)
        page.click("#lab [data-action=get]")
        page.wait_for_selector('#terminal [data-bind="terminal-status"]:has-text("connected")', timeout=120000)
        wait_terminal(page, "learner@k8s-lab")

        page.goto(full_tier_lab + LESSON)
        logs = page.locator('[data-exercise="pod-logs"]')
        assert logs.locator(".pill", has_text="full cluster").is_visible()
        assert logs.locator('[data-bind="needs"]').is_visible()
        page.wait_for_selector('#lab[data-state="ready"]', timeout=30000)
        switch = page.locator('#lab [data-bind="get-cluster"]')
        assert "Run a Pod and read its log" in switch.inner_text()
        assert switch.locator("button").inner_text() == "Switch to your full cluster"
        switch.locator("button").click()
        page.wait_for_selector('#lab[data-state="ready"]', timeout=300000)
        page.wait_for_selector('#terminal [data-bind="terminal-status"]:has-text("connected")', timeout=120000)
        assert switch.is_hidden()
        page.wait_for_function(
            "() => document.querySelector('[data-exercise=pod-logs] [data-bind=needs]').hidden",
            timeout=30000)

        # The shell is in the toolbox pod of the learner's own kind cluster.
        wait_terminal(page, "learner@k8s-lab", timeout_ms=60000)
        type_in_terminal(page, "hostname\n")
        wait_terminal(page, "toolbox")
        type_in_terminal(page, "kubectl run web --image=myrepo/my-app:1.0 && "
                               "kubectl wait --for=condition=Ready pod/web --timeout=120s && kubectl logs web\n")
        wait_terminal(page, "listening on :3000 (pod web)", timeout_ms=150000)
        for check in ("web-running", "logs"):
            page.wait_for_selector(f'[data-exercise="pod-logs"] [data-check="{check}"][data-state="pass"]',
                                   timeout=30000)
        logs.locator('[data-check="listening"] input[name=answer]').fill("3000")
        logs.locator('[data-check="listening"] button[type=submit]').click()
        logs.locator('[data-bind="done"]').wait_for(state="visible", timeout=30000)
        logs.scroll_into_view_if_needed()
        screenshot(page, "full-tier.png")
