"""The exercise panel's live socket in a real browser: after it reconnects, one change of the lab
still asks the server for one re-grade (not one per connection the page ever opened)."""
import pytest

from tests.browser import browser_page, log_in

pytestmark = [pytest.mark.browser]
LESSON = "/courses/kubernetes-architecture/control-plane/"

# Before the page's own scripts: keep every grading socket the page opens and every refresh it
# sends, so the test sees what went over the wire.
RECORD_GRADING_SOCKETS = """
window.gradingSockets = [];
window.refreshesSent = 0;
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    if (String(args[0]).includes("/grading/")) window.gradingSockets.push(this);
  }
  send(data) {
    if (this.url.includes("/grading/") && String(data).includes('"refresh"')) window.refreshesSent++;
    return super.send(data);
  }
};
"""
OPEN = "(n) => window.gradingSockets.length === n && window.gradingSockets[n - 1].readyState === 1"
# Three lab changes, as sandbox.js announces them (a lab that is not usable, so the terminal
# stays as it is); synchronous, so nothing else runs between counting and reading.
THREE_LAB_CHANGES = """() => {
  const before = window.refreshesSent;
  for (let i = 0; i < 3; i++) {
    document.dispatchEvent(new CustomEvent("sandbox:update", { detail: { usable: false } }));
  }
  return window.refreshesSent - before;
}"""


def test_after_a_reconnect_one_lab_change_asks_for_one_regrade(lab_url, owner, password):
    with browser_page() as page:
        page.add_init_script(RECORD_GRADING_SOCKETS)
        log_in(page, lab_url, owner.username, password)
        page.goto(lab_url + LESSON)
        page.wait_for_function(OPEN, arg=1)
        assert page.evaluate(THREE_LAB_CHANGES) == 3
        for opened in (2, 3):  # the socket drops twice; the panel reconnects by itself each time
            page.evaluate("window.gradingSockets.at(-1).close()")
            page.wait_for_function(OPEN, arg=opened, timeout=30000)
        assert page.evaluate(THREE_LAB_CHANGES) == 3
