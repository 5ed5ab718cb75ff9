"""Each kind of check against a real cluster: what it passes, what it fails, what it says."""
import pytest

from courses.course_files import Check
from courses.grading.checks import Context, evaluate
from sandboxes.models import CommandRecord
from tests.sandboxes.helpers import kubectl

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: my-app, namespace: grading}
spec:
  replicas: 2
  selector: {matchLabels: {app: my-app}}
  template:
    metadata: {labels: {app: my-app}}
    spec:
      containers:
        - name: my-app
          image: myrepo/my-app:1.0
          resources: {requests: {memory: 64Mi, cpu: 250m}}
"""


@pytest.fixture(scope="module")
def deployment(api_cluster):
    """A Deployment with 2 ready replicas in the module's cluster; the tests only read it."""
    _, kubeconfig = api_cluster
    kubectl(kubeconfig, "create", "namespace", "grading")
    kubectl(kubeconfig, "apply", "-f", "-", input=DEPLOYMENT)
    kubectl(kubeconfig, "-n", "grading", "rollout", "status", "deployment/my-app", "--timeout=60s")
    yield
    kubectl(kubeconfig, "delete", "namespace", "grading", "--wait=false")


@pytest.fixture
def deployed(deployment, ready_sandbox):
    return ready_sandbox


def _check(kind, **spec):
    return Check(id=spec.pop("id", "c"), kind=kind, title="", spec={"kind": kind, **spec})


DEPLOY = {"kind": "Deployment", "namespace": "grading", "name": "my-app"}


def test_a_field_check_says_what_it_found_and_what_it_expected(deployed):
    result = evaluate(_check("resource", object=DEPLOY, field="status.readyReplicas",
                             label="ready replicas", equals=3), Context(deployed))
    assert not result.passed
    assert result.message == "Deployment my-app in namespace grading has 2 ready replicas; expected 3."
    ok = evaluate(_check("resource", object=DEPLOY, field="status.readyReplicas",
                         label="ready replicas", at_least=2), Context(deployed))
    assert ok.passed and ok.message == "Deployment my-app in namespace grading has 2 ready replicas."


def test_exists_absent_and_count(deployed):
    ctx = Context(deployed)
    assert evaluate(_check("resource", object=DEPLOY, exists=True), ctx).passed
    gone = evaluate(_check("resource", object={**DEPLOY, "name": "nope"}, exists=True), ctx)
    assert not gone.passed and gone.message == "There is no Deployment nope in namespace grading yet."
    assert evaluate(_check("resource", object={**DEPLOY, "name": "nope"}, exists=False), ctx).passed
    pods = {"kind": "Pod", "namespace": "grading", "selector": "app=my-app"}
    assert evaluate(_check("resource", object=pods, count=2), ctx).passed
    few = evaluate(_check("resource", object=pods, count={"min": 5}), ctx)
    assert few.message == "Found 2 Pods with labels app=my-app in namespace grading; expected at least 5."


def test_container_image_resources_and_conditions(deployed):
    ctx = Context(deployed)
    fields = [{"field": "spec.template.spec.containers[name=my-app].image", "label": "image",
               "equals": "myrepo/my-app:1.0"},
              {"field": "spec.template.spec.containers[name=my-app].resources.requests.cpu",
               "label": "CPU request", "equals": "250m"},
              {"field": "spec.template.spec.containers[name=my-app].resources.requests.memory",
               "label": "memory request", "equals": "128Mi"}]
    result = evaluate(_check("resource", object=DEPLOY, fields=fields), ctx)
    assert result.message == "Deployment my-app in namespace grading has memory request 64Mi; expected 128Mi."
    available = evaluate(_check("resource", object=DEPLOY, condition={"type": "Available"}), ctx)
    assert available.passed and "Available is True" in available.message
    same = evaluate(_check("resource", object=DEPLOY, field="status.readyReplicas",
                           equals={"field": "spec.replicas"}), ctx)
    assert same.passed


def test_a_command_check_reads_what_the_learner_ran(ready_sandbox):
    check = _check("command", pattern=r"\bkubectl\s+cluster-info\b", example="kubectl cluster-info")
    missing = evaluate(check, Context(ready_sandbox))
    assert missing.message == "You have not run `kubectl cluster-info` in your terminal yet."
    CommandRecord.objects.create(sandbox=ready_sandbox, line="kubectl cluster-info --bogus", exit_code=1)
    failed = evaluate(check, Context(ready_sandbox))
    assert not failed.passed and "it failed (exit code 1)" in failed.message
    CommandRecord.objects.create(sandbox=ready_sandbox, line="kubectl cluster-info", exit_code=0)
    assert evaluate(check, Context(ready_sandbox)).passed


def test_a_command_pattern_can_name_the_clusters_real_nodes(ready_sandbox):
    check = _check("command", pattern=r"describe\s+node\s+({node})\b")
    CommandRecord.objects.create(sandbox=ready_sandbox, line="kubectl describe node worker-9", exit_code=0)
    assert not evaluate(check, Context(ready_sandbox)).passed
    CommandRecord.objects.create(sandbox=ready_sandbox, line="kubectl describe node worker-1", exit_code=0)
    assert evaluate(check, Context(ready_sandbox)).passed


def test_a_quiz_can_take_its_answer_from_the_live_cluster(ready_sandbox):
    check = _check("quiz", id="runtime", question="Runtime?", type="text",
                   answer_from={"object": {"kind": "Node", "name": "worker-1"},
                                "field": "status.nodeInfo.containerRuntimeVersion"})
    wrong = evaluate(check, Context(ready_sandbox, answers={"runtime": "docker://1.0"}))
    assert not wrong.passed and "not what your cluster reports" in wrong.message
    right = evaluate(check, Context(ready_sandbox, answers={"runtime": " Containerd://1.6.20 "}))
    assert right.passed


def test_a_script_check_passes_on_exit_0_and_reports_the_line_that_explains(ready_sandbox):
    ok = evaluate(_check("script", script="kubectl get node worker-1 >/dev/null && echo found it"),
                  Context(ready_sandbox))
    assert ok.passed and ok.message == "found it"
    # Not the banner above it (script_messages has the rules, tested one by one).
    no = evaluate(_check("script", script="echo '=== Verifying ==='; echo 'not yet: 2 of 3'; exit 3"),
                  Context(ready_sandbox))
    assert not no.passed and no.message == "not yet: 2 of 3"


def test_a_script_that_runs_too_long_is_stopped_with_a_message(ready_sandbox):
    result = evaluate(_check("script", script="sleep 30", timeout=1), Context(ready_sandbox))
    assert not result.passed and result.message == "The check did not finish within 1 s."


def test_a_script_runs_as_the_learners_unprivileged_uid(ready_sandbox):
    import os

    from sandboxes import lifecycle
    result = evaluate(_check("script", script="touch ~/made; id -u"), Context(ready_sandbox))
    assert result.message == "1000"  # the jail's learner, as in their terminal
    if os.geteuid() == 0:  # outside, a host uid of the sandbox's own
        made = lifecycle.sandbox_dir(ready_sandbox) / "home" / "made"
        assert made.stat().st_uid >= 200000


def test_a_cluster_that_is_gone_gives_a_clear_message_not_an_error(ready_sandbox, tmp_path):
    ready_sandbox.kubeconfig = str(tmp_path / "gone")
    result = evaluate(_check("resource", object=DEPLOY, exists=True), Context(ready_sandbox))
    assert not result.passed and result.error
    assert "not running" in result.message


def test_a_stopped_api_server_gives_a_clear_message(ready_sandbox, tmp_path):
    text = open(ready_sandbox.kubeconfig).read()
    import re
    dead = tmp_path / "kubeconfig"
    dead.write_text(re.sub(r"https://127.0.0.1:\d+", "https://127.0.0.1:1", text))
    ready_sandbox.kubeconfig = str(dead)
    result = evaluate(_check("resource", object=DEPLOY, exists=True), Context(ready_sandbox))
    assert result.error and "did not answer" in result.message


def test_without_a_sandbox_cluster_checks_ask_to_start_the_lab():
    result = evaluate(_check("resource", object=DEPLOY, exists=True), Context(None))
    assert not result.passed and "Start your lab" in result.message


def test_a_script_result_is_reused_briefly_but_not_after_a_command_or_a_check(ready_sandbox):
    from sandboxes import lifecycle
    # The script runs in the learner's jail, in their home: it counts its runs in a file there.
    marker = lifecycle.sandbox_dir(ready_sandbox) / "home" / "runs"
    check = _check("script", id="s", script="echo x >> ~/runs; echo counted")
    evaluate(check, Context(ready_sandbox))
    evaluate(check, Context(ready_sandbox))
    assert marker.read_text().count("x") == 1  # reused
    CommandRecord.objects.create(sandbox=ready_sandbox, line="kubectl get ns", exit_code=0)
    evaluate(check, Context(ready_sandbox))
    assert marker.read_text().count("x") == 2  # the learner ran something: run again
    evaluate(check, Context(ready_sandbox, fresh=True))
    assert marker.read_text().count("x") == 3  # Check pressed: run again
    marker.unlink()
