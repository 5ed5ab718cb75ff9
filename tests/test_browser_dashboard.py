"""An instructor's class in a real browser: create it, a learner joins by link and works, the
dashboard shows it live."""
import pytest

from tests.browser import browser_pages, log_in
from tests.screenshots import screenshot

pytestmark = [pytest.mark.browser]


def test_an_instructor_watches_a_real_class_fill_in(lab_url, instructor, owner, password):
    with browser_pages(2) as (teacher, learner):
        log_in(teacher, lab_url, instructor.username, password)
        teacher.click("text=Classes")
        teacher.fill("#id_name", "Monday group")
        teacher.select_option("#id_course", "kubernetes-architecture")
        teacher.click("text=Create class")
        teacher.wait_for_selector("#class-dashboard")
        teacher.wait_for_selector('#class-dashboard[data-live="true"]')  # the push socket is open
        join_link = teacher.input_value(".join-link input")
        assert "/join/" in join_link
        log_in(learner, lab_url, owner.username, password)
        learner.goto(join_link)
        learner.click("text=Join the class")
        learner.wait_for_url("**/courses/kubernetes-architecture/")
        learner.goto(f"{lab_url}/courses/kubernetes-architecture/control-plane/")
        quiz = learner.locator('[data-exercise="control-plane-quiz"]')
        for check, answer in (("source-of-truth", "etcd"), ("picks-a-node", "kube-scheduler"),
                              ("front-door", "kube-apiserver")):
            quiz.locator(f'form[data-check="{check}"] input[value="{answer}"]').check()
            quiz.locator(f'form[data-check="{check}"] button').click()
            learner.wait_for_selector(f'[data-check="{check}"][data-state="pass"]')
        # The dashboard is told at once: the learner's row appears with the passed exercise.
        teacher.wait_for_function("""() => {
            const rows = document.querySelectorAll('[data-bind="matrix"] tr');
            return [...rows].some(r => r.textContent.includes('alice') && r.textContent.includes('✓'));
        }""", timeout=20000)
        row = teacher.locator('[data-bind="matrix"] tr', has_text="alice")
        assert teacher.locator('[data-bind="learner-count"]').inner_text() == "1 learner"
        assert "1/9" in row.inner_text()
        screenshot(teacher, "dashboard.png")
        with teacher.expect_download() as download:
            teacher.click("text=Export CSV")
        assert "control-plane-quiz,yes" in open(download.value.path()).read()
