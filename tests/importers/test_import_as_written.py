"""`manage.py import_killercoda` on scenarios written the way public Killercoda and Katacoda
scenarios are (tests/importers/scenarios/): Katacoda's courseData, two nodes, solutions in
<details> blocks and "Solution" sections, Killercoda's page instructions, scenarios that need
real containers. Each imports, passes validate_courses, and reads as its author meant."""
import pytest
import yaml

from courses.course_files import load_course, split_code_blocks
from courses.grading.checks import DEFAULT_SCRIPT_TIMEOUT
from courses.rendering import render_markdown
from tests.importers.test_import_killercoda import (
    SCENARIOS,
    assert_valid,
    front_matter,
    run_import,
    warnings_of,
)


def imported(tmp_path, capsys, name, *args):
    code, out, err = run_import(capsys, SCENARIOS / name, tmp_path, *args)
    assert code == 0, err
    assert_valid(capsys, tmp_path / name)
    return tmp_path / name, warnings_of(out)


def lesson(course_dir, number):
    [path] = (course_dir / "lessons").glob(f"{number:02d}-*.md")
    return front_matter(path)


@pytest.fixture
def katacoda(tmp_path, capsys):
    return imported(tmp_path, capsys, "katacoda-legacy")


@pytest.fixture
def troubleshoot(tmp_path, capsys):
    return imported(tmp_path, capsys, "cka-troubleshoot")


@pytest.fixture
def containers(tmp_path, capsys):
    return imported(tmp_path, capsys, "needs-containers")


# Katacoda's courseData and code ----------------------------------------------------------------

def test_courseData_becomes_the_course_setup(katacoda):
    course_dir, warnings = katacoda
    assert load_course(course_dir).setup == (
        "kubectl create namespace shop\n"
        "kubectl create deployment web -n shop --image=nginx:1.27 --replicas=1\n"
        "touch /tmp/finished\n")
    meta, _ = lesson(course_dir, 1)
    assert "setup" not in meta  # the intro lesson does not run it a second time
    assert ("WARNING: katacoda-legacy: intro: the background script 'env-init.sh' (Katacoda's "
            "courseData) became the course's setup (course.yaml `setup`), run once before the "
            "first lesson; on Killercoda it ran as root on the VM, so check that it works "
            "against the lab's sandbox") in warnings
    assert not any("courseData' is not imported" in w for w in warnings)


def test_a_code_script_that_only_waits_for_the_background_is_left_out(katacoda):
    course_dir, warnings = katacoda
    _, body = lesson(course_dir, 1)
    assert "/tmp/finished" not in body and "Run this first" not in body
    assert ("WARNING: katacoda-legacy: intro: the foreground script 'foreground.sh' (Katacoda's "
            "code) only waits for the background script, which the lab runs before the lesson "
            "opens; it is left out") in warnings


def test_killercodas_page_instructions_are_gone(katacoda):
    course_dir, _ = katacoda
    _, intro = lesson(course_dir, 1)
    assert intro.strip() == "The deployment `web` in the namespace `shop` runs one replica."
    _, step = lesson(course_dir, 2)
    assert "{{" not in step and "clicked" not in step
    assert step.startswith("\nPress **Run in terminal** on a command to run it.\n")
    blocks = [(b.lang, b.flags, b.text) for b in split_code_blocks(step)]
    assert blocks == [("bash", ("run",), "kubectl scale deployment web -n shop --replicas=3\n")]


def test_a_verify_script_that_waits_for_a_rollout_gets_the_longest_timeout(katacoda, containers):
    meta, _ = lesson(katacoda[0], 2)
    [check] = meta["exercises"][0]["checks"]
    assert check["timeout"] == 120  # `kubectl rollout status`
    assert ("WARNING: katacoda-legacy: step 1: the verify script waits for the cluster, so its "
            "check may take 120 s (timeout: 120)") in katacoda[1]
    meta, _ = lesson(containers[0], 1)
    assert meta["exercises"][0]["checks"][0]["timeout"] == DEFAULT_SCRIPT_TIMEOUT  # it only looks


# Solutions in the text -------------------------------------------------------------------------

def test_details_become_the_exercises_solution_and_hints(troubleshoot):
    meta, body = lesson(troubleshoot[0], 2)
    [exercise] = meta["exercises"]
    assert exercise["hints"] == ["`kubectl set image` changes the image of a container."]
    assert exercise["solution"] == {
        "commands": "kubectl set image deployment/api -n shop nginx=nginx:1.27\n",
        "explanation": "Change the image of the container `nginx`:"}
    # The learner does not read them up front: the lab shows them on request.
    assert "<details" not in body and "set image" not in body and "<br>" not in body
    assert body.rstrip().endswith("```bash run\nkubectl get deployment api -n shop -o wide\n```")


def test_a_solution_section_becomes_the_solution_and_the_next_section_stays(troubleshoot):
    meta, body = lesson(troubleshoot[0], 3)
    assert meta["exercises"][0]["solution"]["commands"] == "kubectl cordon node01\n"
    assert "### Solution" not in body and "cordon node01" not in body
    assert "### Why\n\nA cordoned node keeps its Pods." in body


def test_a_step_without_an_exercise_keeps_its_solutions_folded(troubleshoot):
    meta, body = lesson(troubleshoot[0], 4)
    assert "exercises" not in meta
    assert body.count('<details markdown="1">') == 2
    assert "**Solution:**" not in body  # the bold "Solution:" section is folded too
    html = render_markdown(body).html
    assert html.count("<details>") == 2 and "<summary>Solution</summary>" in html
    assert 'class="code-run"' in html  # the commands inside still run in the terminal


# Nodes, tiers, traffic -------------------------------------------------------------------------

def test_two_nodes_are_described_with_the_control_plane_taint(troubleshoot):
    course = load_course(troubleshoot[0])
    assert [(n.name, n.role, n.taints) for n in course.nodes] == [
        ("controlplane", "control-plane",
         [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]),
        ("node01", "worker", [])]


def test_a_traffic_link_is_a_placeholder_and_needs_the_full_tier(troubleshoot):
    course_dir, warnings = troubleshoot
    _, intro = lesson(course_dir, 1)
    assert "[shop](#lab-app-port-30080){: .lab-app-port title=" in intro
    assert '<a class="lab-app-port" href="#lab-app-port-30080"' in render_markdown(intro).html
    assert yaml.safe_load((course_dir / "course.yaml").read_text())["tier"] == "full"
    assert ("WARNING: cka-troubleshoot: tier full: the scenario uses the app in the browser "
            "({{TRAFFIC_HOST1_<port>}}) (intro)") in warnings


def test_logs_exec_and_traffic_pick_the_full_tier(containers):
    course_dir, warnings = containers
    assert load_course(course_dir).tier == "full"
    assert ("WARNING: needs-containers: tier full: the scenario uses an interactive pod (kubectl "
            "run -it) (step 2), HTTP requests to a Service, Pod or node port (step 2), kubectl "
            "logs (step 1), kubectl exec (step 2)") in warnings


def test_the_authors_tier_wins(tmp_path, capsys):
    course_dir, warnings = imported(tmp_path, capsys, "needs-containers", "--tier", "api")
    assert load_course(course_dir).tier == "api"
    assert any(w.startswith("WARNING: needs-containers: tier api (--tier): the scenario uses ")
               and w.endswith("which need real containers: those steps will not work on an "
                              "API cluster") for w in warnings), warnings


def test_killercodas_k_alias_is_defined_where_the_lab_runs_or_types_it(containers):
    meta, _ = lesson(containers[0], 1)
    assert meta["setup"].startswith('k() { kubectl "$@"; }  # Killercoda\'s shorthand')
    script = meta["exercises"][0]["checks"][0]["script"]
    assert script.startswith('#!/bin/bash\nk() { kubectl "$@"; }')
    commands = meta["exercises"][0]["solution"]["commands"]
    assert commands.startswith("alias k=kubectl  # Killercoda's shorthand for kubectl\n")
    meta, _ = lesson(containers[0], 2)  # solution.sh uses kubectl: nothing added
    assert meta["exercises"][0]["solution"]["commands"].startswith("kubectl run fetch")
