"""Production on one host, end to end: the images `make images` built run under `docker compose`,
and a learner uses the site through it exactly as through `make run`: signs up, starts a lab,
types `kubectl get nodes` in the terminal over its WebSocket, passes an exercise. The stack is
taken down and brought up again: the learner and their progress are still there, and their lab
either answers again or says it stopped. `down -v` leaves nothing of the project behind.

Driven by `make compose-e2e` (after `make images`); deselected from a plain `pytest` run."""
from __future__ import annotations

import os
import secrets
import time

import pytest

from tests.deploy.site import Site
from tests.deploy.stack import CGROUP_V1, Stack, cgroup_pids, missing_prerequisites
from tests.deploy.terminal import RemoteTerm
from tests.processes import wait_for

pytestmark = pytest.mark.deploy

COURSE, LESSON, EXERCISE = "kubernetes-architecture", "namespaces", "create-staging"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    missing = missing_prerequisites()
    if missing:
        pytest.fail(f"the compose end-to-end test needs the images: {missing}")
    stack = Stack(tmp_path_factory.mktemp("compose"))
    try:
        print(f"\n[compose-e2e] first `up` to /healthz 200: {stack.up():.0f}s")
        yield stack
    finally:
        if os.environ.get("KEEP_STACK"):  # to look at a failure: `docker compose -p <project> ...`
            print(f"\nkept: {' '.join(stack.cli())}")
        else:
            stack.remove()


@pytest.fixture(scope="module")
def learner():
    return {"username": f"learner{secrets.token_hex(3)}", "password": secrets.token_urlsafe(16)}


def test_a_learner_signs_up_starts_a_lab_and_passes_an_exercise_in_the_terminal(stack, learner):
    site = Site(stack.url)
    site.sign_up(learner["username"], learner["password"])
    started = time.monotonic()
    sandbox = site.wait_ready(site.start_lab(COURSE, LESSON)["id"])
    print(f"\n[compose-e2e] the learner's lab, start to ready: {time.monotonic() - started:.0f}s")
    before = site.check(COURSE, LESSON, EXERCISE)
    assert not before["passed"], f"the exercise passed before the learner did anything: {before}"

    with RemoteTerm(site, sandbox["id"]) as term:
        assert term.hello()["readonly"] is False
        nodes = term.run("kubectl get nodes", "NODES")
        assert "worker-1" in nodes and "Ready" in nodes, nodes
        # The jail holds in the container: none of the lab's code or data is in view, and (on
        # a cgroup v1 host) the shell runs in its sandbox's cgroup on the host.
        seen = term.run(f"ls /app/manage.py {stack.data_dir} 2>&1 | grep -c 'No such file'", "HIDDEN")
        assert "2\r\n" in seen, seen
        if CGROUP_V1:
            jailed = [pid for group in stack.jail_cgroups() for pid in cgroup_pids(group)]
            assert jailed, f"the learner's shell is in none of {stack.jail_cgroups()}"
        term.run("kubectl create namespace staging", "CREATED")
        term.run("kubectl config set-context --current --namespace=staging", "SWITCHED")

    after = site.check(COURSE, LESSON, EXERCISE)
    assert after["passed"] and after["done"], f"the exercise did not pass: {after}"
    stack.sandbox_id = sandbox["id"]


def test_a_lessons_setup_runs_in_the_learners_jail_before_they_arrive(stack):
    """The worker runs a course's setup when the lab is ready (courses.tasks.prepare_sandbox), in
    the same jail as the terminal: the example course's first lesson leaves a ConfigMap."""
    site = Site(stack.url)
    site.sign_up(f"author{secrets.token_hex(3)}", secrets.token_urlsafe(16))
    sandbox = site.wait_ready(site.start_lab("hello-lab", "first-steps")["id"])
    with RemoteTerm(site, sandbox["id"]) as term:
        term.hello()

        def prepared():
            said = term.run("kubectl -n example get configmap greeting -o jsonpath='{.data.message}'",
                            "GREETING")
            return "hello from the lab" in said
        wait_for(prepared, 120, "the lesson's setup to leave its ConfigMap", interval=3.0)


def test_the_learner_and_their_progress_outlive_a_restart_of_the_stack(stack, learner):
    assert getattr(stack, "sandbox_id", None), "the first test did not get as far as passing"
    stack.down()
    assert stack.leftovers().get("volumes"), "down without -v removed the database's volume"
    print(f"\n[compose-e2e] `up` again to /healthz 200: {stack.up():.0f}s")

    site = Site(stack.url)
    site.log_in(learner["username"], learner["password"])
    status = site.lesson_status(COURSE, LESSON)
    exercise = next(e for e in status["exercises"] if e["slug"] == EXERCISE)
    assert exercise["done"], f"the passed exercise is no longer done: {exercise}"

    # The lab's cluster ran in the worker container that `down` removed. The reconciler (run
    # when the worker starts) must not leave it looking ready while nothing answers: it is
    # restarted and answers, or it is marked failed with a reason the learner can read.
    def settled():
        state = site.sandbox(stack.sandbox_id)
        if state["state"] == "failed":
            assert state["failure"], state
            return state
        if state["state"] == "ready":
            with RemoteTerm(site, stack.sandbox_id) as term:
                term.hello()
                nodes = term.run("kubectl get nodes --request-timeout=5s", "AGAIN", timeout=30)
                if "worker-1" in nodes:
                    return state
        return None
    wait_for(settled, 180, "the learner's lab to answer again or to say it stopped", interval=5.0)


def test_down_with_volumes_leaves_nothing_behind(stack):
    stack.down(volumes=True)
    deadline = time.monotonic() + 30
    while stack.leftovers() and time.monotonic() < deadline:
        time.sleep(1)
    assert stack.leftovers() == {}
