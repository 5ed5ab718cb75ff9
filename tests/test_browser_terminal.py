"""The terminal in a real browser, against the real server, worker and cluster."""
import re
import time

import pytest

from tests.browser import browser_page, browser_pages, log_in, terminal_text, type_in_terminal, wait_terminal
from tests.screenshots import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.cluster]
LESSON = "/courses/kubernetes-architecture/control-plane/"


@pytest.fixture
def started_lab(lab_url, owner, password, celery_worker):
    from tests.sandboxes.helpers import stop_all_and_wait
    yield lab_url
    stop_all_and_wait()


def _start_lab(page, lab_url, owner, password):
    log_in(page, lab_url, owner.username, password)
    page.goto(lab_url + LESSON)
    page.click("#lab [data-action=get]")
    page.wait_for_selector('#terminal [data-bind="terminal-status"]:has-text("connected")', timeout=120000)
    wait_terminal(page, "learner@k8s-lab")


def test_a_learner_types_kubectl_and_sees_their_node(started_lab, owner, password):
    with browser_page() as page:
        _start_lab(page, started_lab, owner, password)
        assert page.locator("#terminal").get_attribute("data-renderer") in ("webgl", "dom")
        type_in_terminal(page, "kubectl get nodes\n")
        wait_terminal(page, "worker-1")
        assert re.search(r"worker-1\s+Ready", terminal_text(page))
        # "Run in terminal" types a lesson's command for the learner.
        page.locator(".code-run:not([disabled])").first.click()
        wait_terminal(page, "Kubernetes control plane is running at")
        screenshot(page, "terminal.png")
        # Nothing of the lab is visible from inside the shell.
        type_in_terminal(page, "cat /work/main/var/secret_key; ls /work/main\n")
        wait_terminal(page, "ls: cannot access '/work/main'")


def test_a_reload_finds_the_same_shell_and_its_scrollback(started_lab, owner, password):
    with browser_page() as page:
        _start_lab(page, started_lab, owner, password)
        type_in_terminal(page, "echo shell-pid=$$\n")
        wait_terminal(page, "shell-pid=")
        pid = re.search(r"shell-pid=(\d+)", terminal_text(page)).group(1)
        page.reload()
        page.wait_for_selector('#terminal [data-bind="terminal-status"]:has-text("connected")', timeout=60000)
        wait_terminal(page, f"shell-pid={pid}")  # the scrollback came back
        type_in_terminal(page, "echo again-pid=$$\n")
        wait_terminal(page, f"again-pid={pid}")  # and it is the same shell


def test_a_flood_stops_at_ctrl_c_and_the_page_stays_responsive(started_lab, owner, password, artifacts_dir):
    with browser_page() as page:
        _start_lab(page, started_lab, owner, password)
        type_in_terminal(page, "yes\n")
        page.wait_for_timeout(1500)
        # The page still answers while the flood runs.
        started = time.monotonic()
        assert page.evaluate("1 + 1") == 2
        assert time.monotonic() - started < 2
        page.keyboard.press("Control+C")
        pressed = time.monotonic()
        type_in_terminal(page, "echo prompt-$((40+2))\n")
        wait_terminal(page, "prompt-42", timeout_ms=10000)
        back = time.monotonic() - pressed
        (artifacts_dir / "ctrl-c-to-prompt.txt").write_text(f"{back:.3f}\n")
        # Behaviour, with room for a loaded machine: the flood stopped and the shell answered.
        assert back < 5, f"the prompt took {back:.2f}s to come back"


def test_another_learner_cannot_attach(started_lab, owner, other, password):
    with browser_pages(2) as (page, intruder):
        _start_lab(page, started_lab, owner, password)
        from sandboxes.models import Sandbox
        sandbox_id = Sandbox.objects.get(owner=owner, state="ready").id
        page = intruder
        log_in(page, started_lab, other.username, password)
        code = page.evaluate("""(id) => new Promise((resolve) => {
            const ws = new WebSocket(`ws://${location.host}/ws/sandboxes/${id}/terminal/`);
            ws.onclose = (e) => resolve(e.code);
        })""", str(sandbox_id))
        assert code in (4403, 1006)
        response = page.request.get(f"{started_lab}/sandboxes/{sandbox_id}/")
        assert response.status == 404


def test_a_foreign_origin_is_refused_by_the_real_server(started_lab, owner, password):
    import asyncio

    import websockets
    from django.test import Client

    client = Client()
    client.force_login(owner)
    cookie = client.cookies["sessionid"].value
    host = started_lab.split("//")[1]

    async def attempt(origin):
        try:
            async with websockets.connect(f"ws://{host}/ws/sandboxes/00000000-0000-0000-0000-000000000000/terminal/",
                                          origin=origin, additional_headers={"Cookie": f"sessionid={cookie}"}):
                return "open"
        except websockets.exceptions.InvalidStatus as exc:
            return exc.response.status_code
        except websockets.exceptions.ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else "closed"

    assert asyncio.run(attempt("https://evil.example")) == 403


def test_a_check_ticks_by_itself_after_a_command_in_the_terminal(started_lab, owner, password):
    with browser_page() as page:
        _start_lab(page, started_lab, owner, password)
        exercise = page.locator('[data-exercise="explore-cluster"]')
        check = exercise.locator('[data-check="get-nodes"]')
        page.wait_for_function("""() => document.querySelector(
            '[data-exercise="explore-cluster"] [data-check="get-nodes"]').dataset.state === 'fail'""")
        assert "have not run" in check.inner_text()
        type_in_terminal(page, "kubectl cluster-info\n")
        type_in_terminal(page, "kubectl get nodes\n")
        # No Check button pressed: the panel updates from the live status alone.
        page.wait_for_selector('[data-exercise="explore-cluster"].passing', timeout=10000)
        assert check.get_attribute("data-state") == "pass"
        assert exercise.locator('[data-bind="done"]').is_visible()
        # A quiz is answered in the panel and checked on the server.
        quiz = page.locator('[data-exercise="control-plane-quiz"]')
        quiz.locator('form[data-check="source-of-truth"] input[value="kube-scheduler"]').check()
        quiz.locator('form[data-check="source-of-truth"] button').click()
        page.wait_for_selector('[data-check="source-of-truth"][data-state="fail"]')
        quiz.locator('form[data-check="source-of-truth"] input[value="etcd"]').check()
        quiz.locator('form[data-check="source-of-truth"] button').click()
        page.wait_for_selector('[data-check="source-of-truth"][data-state="pass"]')
        screenshot(page, "exercises.png")
