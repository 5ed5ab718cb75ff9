"""Debian's Chromium driven by Playwright (its own browser download cannot work here)."""
import os
from contextlib import contextmanager

# Playwright's sync API runs an event loop in this thread; the tests' own ORM calls are still
# plain synchronous code, so Django's guard against ORM use inside a loop does not apply.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-gpu", "--disable-quic",
        "--disable-dev-shm-usage"]


@contextmanager
def browser_pages(count=1, width=1440, height=900):
    """count pages, each in its own browser context (its own cookies: its own user)."""
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), "Debian's chromium is needed: `make test` installs it"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            pages = []
            for _ in range(count):
                context = browser.new_context(viewport={"width": width, "height": height})
                page = context.new_page()
                page.set_default_timeout(20000)
                pages.append(page)
            yield pages
        finally:
            browser.close()


@contextmanager
def browser_page(width=1440, height=900):
    with browser_pages(1, width, height) as pages:
        yield pages[0]


def sign_up(page, base_url, username, password):
    page.goto(f"{base_url}/accounts/signup/")
    page.fill("#id_username", username)
    page.fill("#id_email", f"{username}@example.com")
    page.fill("#id_password1", password)
    page.fill("#id_password2", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def log_in(page, base_url, username, password):
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


TERMINAL_TEXT = """() => {
  const t = window.labTerminal && window.labTerminal.term;
  if (!t) return "";
  const b = t.buffer.active, lines = [];
  for (let i = 0; i < b.length; i++) lines.push(b.getLine(i).translateToString(true));
  return lines.join("\\n");
}"""


def terminal_text(page) -> str:
    return page.evaluate(TERMINAL_TEXT)


def wait_terminal(page, needle: str, timeout_ms: int = 30000):
    page.wait_for_function(f"(needle) => ({TERMINAL_TEXT})().includes(needle)", arg=needle,
                           timeout=timeout_ms)


def type_in_terminal(page, text: str):
    page.locator(".terminal-host .xterm").click()
    page.keyboard.type(text)
