"""Setup that always runs: the course's setup, then the lesson's, once per sandbox, when a lesson
is opened (an intro without exercises too) or when the lab starts for the course, whichever
comes first; a failed one shows on the page and runs again on request. Real kwok clusters, the
real Celery worker (told where this test's courses are) and the lesson page's own view."""
import time

import pytest
from django.urls import reverse

from courses.catalog import get_course
from courses.models import LessonSetup
from courses.setup import COURSE_LEVEL, ensure_setup, status
from sandboxes import lifecycle
from tests.courses.setup_content import FLAKY, FLAKY_TAIL, write_course
from tests.sandboxes.helpers import stop_all_and_wait, wait_state

pytestmark = [pytest.mark.cluster]

COURSE_YAML = """title: Shop
setup: |
  kubectl create namespace shop --dry-run=client -o yaml | kubectl apply -f -
  echo course >> ~/order
lessons: [intro, first, flaky]
"""
INTRO = """---
title: Welcome
setup: |
  kubectl -n shop create configmap seen --dry-run=client -o yaml | kubectl apply -f -
  echo intro >> ~/order
---
Nothing to grade here: the cluster is prepared all the same.
"""
FIRST = """---
title: First
setup: |
  echo first >> ~/order
---
Text.
"""
WAIT = 120  # the most a wait for the worker takes here


@pytest.fixture(scope="module")
def shop_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("courses")
    write_course(root, "shop", COURSE_YAML, {"intro": INTRO, "first": FIRST, "flaky": FLAKY})
    return root


@pytest.fixture
def shop(shop_dir, settings):
    settings.COURSE_DIRS = [shop_dir]
    return get_course("shop")


@pytest.fixture(scope="module", autouse=True)
def shop_worker(celery_worker, shop_dir):
    """The session's worker, reading this module's course too (it runs the setup tasks).
    Restarted before the module's cluster exists: a starting worker reconciles, and would
    delete a cluster that no sandbox row names yet."""
    celery_worker.restart(COURSE_DIRS=str(shop_dir))
    yield celery_worker
    celery_worker.restart()


def _order(sandbox) -> list[str]:
    path = lifecycle.sandbox_dir(sandbox) / "home" / "order"
    return path.read_text().split() if path.exists() else []


def _wait_for(predicate, what: str):
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"waited {WAIT} s for {what}")


def test_the_course_setup_runs_before_the_lessons_and_each_runs_once(ready_sandbox, shop):
    intro, first = shop.lesson("intro"), shop.lesson("first")
    # The intro's setup needs the namespace the course's makes (the module's tests share one
    # cluster, so each setup is idempotent; each test's sandbox, and so its home, is new).
    assert ensure_setup(ready_sandbox, shop, intro).state == "done"
    assert ensure_setup(ready_sandbox, shop, intro).state == "done"
    assert _order(ready_sandbox) == ["course", "intro"]
    assert ensure_setup(ready_sandbox, shop, first).state == "done"
    assert _order(ready_sandbox) == ["course", "intro", "first"]  # the course's did not run again
    rows = LessonSetup.objects.filter(sandbox_id=ready_sandbox.id).order_by("started_at")
    assert [(r.lesson, r.exit_code) for r in rows] == [(COURSE_LEVEL, 0), ("intro", 0), ("first", 0)]


def test_an_intro_lessons_setup_runs_when_its_page_is_opened(ready_sandbox, shop, client, owner):
    client.force_login(owner)
    page = client.get(reverse("lesson", args=["shop", "intro"])).content.decode()
    assert "no graded exercises" in page  # an intro: no exercise, no grading socket
    assert "Preparing your cluster for this lesson" in page
    _wait_for(lambda: status(ready_sandbox, shop, shop.lesson("intro")).state == "done",
              "the intro's setup")
    assert _order(ready_sandbox) == ["course", "intro"]
    # Opened again (and its setup asked for by the page): nothing runs twice.
    client.get(reverse("lesson", args=["shop", "intro"]))
    assert client.post(reverse("lesson-setup", args=["shop", "intro"])).json()["state"] == "done"
    time.sleep(2)
    assert _order(ready_sandbox) == ["course", "intro"]


def test_a_failed_setup_shows_on_the_page_and_runs_again_on_request(ready_sandbox, shop, client,
                                                                     owner):
    client.force_login(owner)
    client.get(reverse("lesson", args=["shop", "flaky"]))
    url = reverse("lesson-setup", args=["shop", "flaky"])
    _wait_for(lambda: client.get(url).json()["state"] == "failed", "the setup to fail")
    failed = client.get(url).json()
    assert failed == {"state": "failed", "part": "lesson", "exit_code": 3, "tail": FLAKY_TAIL}
    page = client.get(reverse("lesson", args=["shop", "flaky"])).content.decode()
    assert "This lesson's setup failed" in page and "exit code 3" in page
    assert "widgets: no such thing" in page and 'data-action="setup-again"' in page
    assert client.post(url, {"again": "1"}).json()["state"] == "pending"
    _wait_for(lambda: client.get(url).json()["state"] == "done", "the setup to run again")


def test_the_setup_runs_when_the_lab_starts_for_the_course_exactly_once(shop, owner, client,
                                                                        transactional_db):
    # The learner starts their lab from the intro: the worker creates the cluster, and the
    # sandbox_ready signal sends the course's setup and the intro's.
    sandbox = lifecycle.start(owner, "api", course="shop", lesson="intro")
    try:
        wait_state(sandbox, "ready", timeout=180)
        _wait_for(lambda: status(sandbox, shop, shop.lesson("intro")).state == "done",
                  "the setup after the lab started")
        assert _order(sandbox) == ["course", "intro"]
        client.force_login(owner)
        client.get(reverse("lesson", args=["shop", "intro"]))
        client.get(reverse("lesson", args=["shop", "first"]))
        _wait_for(lambda: status(sandbox, shop, shop.lesson("first")).state == "done",
                  "the next lesson's setup")
        assert _order(sandbox) == ["course", "intro", "first"]
        assert LessonSetup.objects.filter(sandbox_id=sandbox.id).count() == 3
    finally:
        stop_all_and_wait()


def test_another_learner_cannot_run_or_read_the_owners_setup(ready_sandbox, shop, client, owner,
                                                             other):
    """The setup endpoint acts only on the caller's own cluster: another learner's POST (even
    `again=1`) neither runs nor forgets the owner's failed setup, and shows nothing of it; a
    visitor who is not logged in is sent to log in."""
    client.force_login(owner)
    client.get(reverse("lesson", args=["shop", "flaky"]))
    url = reverse("lesson-setup", args=["shop", "flaky"])
    _wait_for(lambda: client.get(url).json()["state"] == "failed", "the setup to fail")
    claims = LessonSetup.objects.filter(sandbox_id=ready_sandbox.id).count()

    client.force_login(other)
    for reply in (client.post(url, {"again": "1"}), client.post(url), client.get(url)):
        assert reply.status_code == 200
        assert reply.json()["state"] != "failed" and FLAKY_TAIL not in str(reply.json())
    client.logout()
    assert client.post(url, {"again": "1"}).status_code == 302

    client.force_login(owner)
    assert client.get(url).json()["state"] == "failed"
    assert LessonSetup.objects.filter(sandbox_id=ready_sandbox.id).count() == claims
