"""A learner's first visit, in a real browser: sign up, open the course, read every lesson."""
import pytest

from tests.browser import browser_page, sign_up
from tests.screenshots import screenshot

pytestmark = [pytest.mark.browser]


def test_a_learner_signs_up_and_walks_through_every_lesson(lab_url, password):
    with browser_page() as page:
        sign_up(page, lab_url, "newlearner", password)
        assert page.locator(".account .who").inner_text() == "newlearner"
        page.click("text=Kubernetes Architecture")
        page.wait_for_url("**/courses/kubernetes-architecture/")
        assert page.locator(".lesson-row").count() == 7
        page.click("text=Start the course")
        titles, picture = [], None
        for number in range(1, 8):
            page.wait_for_selector("#lesson-title")
            titles.append(page.locator("#lesson-title").inner_text())
            assert page.locator(".lesson-body h2").count() >= 2, titles[-1]
            assert page.locator(".code-copy").count() >= 1, titles[-1]
            if titles[-1].startswith("The Kubernetes Object Model") or number == 4:
                page.locator(".lesson-body h2").nth(1).scroll_into_view_if_needed()
                page.evaluate("document.querySelector('.lesson-pane').scrollTop = 0")
                picture = screenshot(page, "lesson.png")
            # Keyboard users move on with Alt+Right, like the button.
            if number % 2:
                page.keyboard.press("Alt+ArrowRight")
            else:
                page.click("button[data-shortcut=next]")
            page.wait_for_load_state("load")
        page.wait_for_url("**/courses/kubernetes-architecture/")
        assert "7 of 7 lessons finished" in page.content()
        assert page.locator(".lesson-row.done").count() == 7
    assert len(titles) == 7 and len(set(titles)) == 7
    assert picture is not None and picture.stat().st_size > 20000


def test_the_copy_button_copies_the_code(lab_url, owner, password):
    with browser_page() as page:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        page.goto(f"{lab_url}/accounts/login/")
        page.fill("#id_username", owner.username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.goto(f"{lab_url}/courses/kubernetes-architecture/control-plane/")
        block = page.locator(".codehilite.runnable").first
        expected = block.locator("pre").inner_text().strip()
        block.locator(".code-copy").click()
        assert block.locator(".code-copy").inner_text() in ("Copied", "Copy")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.strip() == expected
