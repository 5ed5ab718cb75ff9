"""The Content-Security-Policy: every page carries it, no template needs an inline script, and
in Debian's Chromium the pages (xterm.js included) run under it without a single violation."""
import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.browser import browser_page, log_in

ROOT = Path(__file__).resolve().parents[2]
LESSON = "/courses/kubernetes-architecture/control-plane/"
EXPECTED = {
    "default-src": {"'self'"}, "script-src": {"'self'"}, "object-src": {"'none'"},
    "base-uri": {"'self'"}, "form-action": {"'self'"}, "frame-ancestors": {"'none'"},
}
# Set up before any page script runs (Playwright's init scripts are not subject to the page's
# policy): every violation and every console complaint about the policy is kept.
WATCH_FOR_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__cspViolations.push(
  `${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`));
"""


def _directives(header: str) -> dict[str, set[str]]:
    parts = [part.split() for part in header.split(";") if part.strip()]
    return {words[0]: set(words[1:]) for words in parts}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/courses/kubernetes-architecture/", LESSON,
                                  "/accounts/login/", "/accounts/signup/", "/no-such-page/",
                                  "/healthz"])
def test_every_response_carries_the_policy(client, owner, path):
    client.force_login(owner)
    directives = _directives(client.get(path)["Content-Security-Policy"])
    for name, values in EXPECTED.items():
        assert directives[name] == values, name
    assert "'unsafe-inline'" not in directives["script-src"] | directives["default-src"]
    assert directives["connect-src"] == {"'self'", "ws://testserver"}


@pytest.mark.django_db
def test_behind_https_the_socket_source_is_wss(client, settings):
    settings.HTTPS = True
    settings.SECURE_SSL_REDIRECT = False
    header = client.get(reverse("catalog"), secure=True)["Content-Security-Policy"]
    assert _directives(header)["connect-src"] == {"'self'", "wss://testserver"}


def test_no_template_has_an_inline_script_or_event_handler():
    offences = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            # A JSON data block is never run, so the policy has nothing to say about it.
            if "src=" not in tag and 'type="application/json"' not in tag:
                offences.append(f"{path.name}: {tag}")
        offences += [f"{path.name}: {m}" for m in re.findall(r"\son[a-z]+\s*=", text)]
        offences += [f"{path.name}: {m}" for m in re.findall(r"javascript:", text)]
    assert offences == []


def _violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations")


def _watch(page) -> list[str]:
    console = []
    page.add_init_script(WATCH_FOR_VIOLATIONS)
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    return console


@pytest.mark.browser
def test_the_detector_sees_a_violation(lab_url, owner, password):
    # Without this, "no violations" below could mean only that nothing was listening.
    with browser_page() as page:
        console = _watch(page)
        page.goto(lab_url + "/accounts/login/")
        page.evaluate("""() => { const s = document.createElement("script");
                                 s.textContent = "window.ran = true"; document.body.append(s); }""")
        page.wait_for_function("window.__cspViolations.length > 0")
        assert page.evaluate("window.ran === undefined")
        assert any("script-src" in v for v in _violations(page))
        assert console


@pytest.mark.browser
def test_pages_and_the_terminal_run_under_the_policy(lab_url, owner, instructor, password):
    """The catalog, a lesson, the class dashboard and the watch page (which loads xterm.js and
    opens a terminal socket) without a cluster; the full lesson with a live terminal is
    test_the_lesson_page_with_a_live_terminal_has_no_violation below."""
    from classes.models import Cohort, Membership
    from sandboxes.models import Sandbox, State

    cohort = Cohort.objects.create(name="CSP", course="kubernetes-architecture", instructor=instructor)
    Membership.objects.create(cohort=cohort, user=owner)
    sandbox = Sandbox.objects.create(owner=owner, tier="api", backend="kwok", state=State.READY)
    with browser_page() as page:
        console = _watch(page)
        log_in(page, lab_url, instructor.username, password)
        page.goto(lab_url + LESSON)
        page.wait_for_selector("#exercises")
        page.goto(f"{lab_url}/classes/{cohort.pk}/")
        page.wait_for_selector('#class-dashboard[data-live="true"]')
        page.goto(f"{lab_url}/classes/{cohort.pk}/sandboxes/{sandbox.id}/watch/")
        # xterm.js is loaded and drawn (its <style> elements included) and the socket answers:
        # the learner has no terminal open, so the page is told so and the socket closes.
        page.wait_for_selector("#terminal .xterm-screen")
        page.wait_for_selector('#terminal [data-bind="terminal-status"]:has-text("disconnected")')
        assert _violations(page) == [] and console == []


@pytest.mark.browser
@pytest.mark.cluster
def test_the_lesson_page_with_a_live_terminal_has_no_violation(lab_url, owner, password,
                                                               celery_worker):
    from tests.browser import type_in_terminal, wait_terminal
    from tests.sandboxes.helpers import stop_all_and_wait

    try:
        with browser_page() as page:
            console = _watch(page)
            log_in(page, lab_url, owner.username, password)
            page.goto(lab_url + LESSON)
            page.click("#lab [data-action=get]")
            page.wait_for_selector('#terminal [data-bind="terminal-status"]:has-text("connected")',
                                   timeout=120000)
            wait_terminal(page, "learner@k8s-lab")
            type_in_terminal(page, "kubectl get nodes\n")
            wait_terminal(page, "worker-1")
            assert _violations(page) == [] and console == []
    finally:
        stop_all_and_wait()
