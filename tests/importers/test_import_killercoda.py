"""`manage.py import_killercoda` on the small scenarios in tests/importers/scenarios/: the files
it writes, the warnings it prints, its exit codes, and that validate_courses finds 0 problems."""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

from courses.course_files import load_course, split_code_blocks, split_front_matter
from courses.grading.checks import DEFAULT_SCRIPT_TIMEOUT
from courses.importers.killercoda.markers import INTERRUPT_COMMENT
from tests.processes import child_env

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = Path(__file__).parent / "scenarios"
MARKERS = re.compile(r"\{\{\s*(exec|execute|copy|open|TRAFFIC_|\s*\}\})", re.IGNORECASE)


def run_import(capsys, src, out, *args):
    """(exit code, stdout, stderr) of the command."""
    try:
        call_command("import_killercoda", str(src), "--out", str(out), *args)
        code = 0
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def warnings_of(stdout):
    return [line for line in stdout.splitlines() if line.startswith("WARNING: ")]


def assert_valid(capsys, path):
    call_command("validate_courses", str(path))
    out = capsys.readouterr().out
    assert "0 problem(s)" in out, out


def front_matter(path):
    front, body, _ = split_front_matter(path.read_text(encoding="utf-8"))
    return yaml.safe_load(front), body


def all_text(folder):
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*"))
                     if p.is_file() and p.suffix in (".md", ".yaml"))


# The basic scenario: every index.json field ----------------------------------------------------

@pytest.fixture
def basic(tmp_path, capsys):
    code, out, err = run_import(capsys, SCENARIOS / "basic", tmp_path)
    assert code == 0, err
    return tmp_path / "basic", out


def test_it_writes_course_yaml_from_title_description_difficulty_and_imageid(basic):
    course_dir, _ = basic
    data = yaml.safe_load((course_dir / "course.yaml").read_text())
    assert data == {
        "title": "Pods and Namespaces",
        "summary": "Create a namespace and run a pod in it.",
        "description": "Create a namespace and run a pod in it.\n\nA small scenario that uses "
                       "every field the importer maps.",
        "level": "Beginner",
        "tier": "full",  # step 2 follows a pod's log
        "nodes": [{"name": "controlplane", "role": "control-plane"}],  # kubernetes-kubeadm-1node
        "setup": "kubectl create namespace warmup\n",  # the intro's background script
        "lessons": ["introduction", "create-a-namespace", "run-a-pod", "label-the-pod", "finish"],
    }
    assert sorted(p.name for p in (course_dir / "lessons").iterdir()) == [
        "01-introduction.md", "02-create-a-namespace.md", "03-run-a-pod.md", "04-label-the-pod.md",
        "05-finish.md"]


def test_it_passes_validate_courses(basic, capsys):
    assert_valid(capsys, basic[0])
    course = load_course(basic[0])
    assert [lesson.title for lesson in course.lessons] == [
        "Introduction", "Create a namespace", "Run a pod", "Label the pod", "Finish"]
    assert [ex.slug for ex in course.exercises()] == [
        "create-a-namespace", "run-a-pod", "label-the-pod"]
    assert all(ex.tier == "full" for ex in course.exercises())


def test_it_turns_intro_foreground_into_a_run_first_block_and_background_into_course_setup(basic):
    meta, body = front_matter(basic[0] / "lessons" / "01-introduction.md")
    assert meta == {"title": "Introduction"}  # its background is the course's setup
    assert load_course(basic[0]).setup == "kubectl create namespace warmup\n"
    assert body.startswith("\n**Run this first.** On Killercoda this script was typed into the "
                           "terminal for you when the intro opened; here, run it yourself:\n\n"
                           "```bash run\necho \"Waiting for the cluster...\"\nkubectl get nodes\n"
                           "```\n\n# Welcome\n")


def test_it_makes_a_verify_script_a_script_check_with_the_steps_exec_code_as_solution(basic):
    meta, body = front_matter(basic[0] / "lessons" / "02-create-a-namespace.md")
    assert meta["setup"] == "kubectl delete namespace team-a --ignore-not-found\n"
    [exercise] = meta["exercises"]
    assert exercise["slug"] == "create-a-namespace"
    assert exercise["title"] == "Create a namespace"
    assert exercise["checks"] == [{
        "kind": "script", "id": "verify", "title": "The step's task is done",
        "script": "#!/bin/bash\nkubectl get namespace team-a\n", "timeout": DEFAULT_SCRIPT_TIMEOUT}]
    # `kubectl get namespaces -w` never ends, so it is not part of the solution.
    assert exercise["solution"]["commands"] == "kubectl create namespace team-a\nkubectl get namespaces"
    assert "runnable commands" in exercise["solution"]["explanation"]


def test_it_converts_exec_interrupt_and_copy_blocks(basic):
    _, body = front_matter(basic[0] / "lessons" / "02-create-a-namespace.md")
    blocks = [(b.lang, b.flags, b.text) for b in split_code_blocks(body)]
    assert blocks == [
        ("bash", ("run",), "clear\n"),  # the step's foreground script
        ("bash", ("run",), "kubectl create namespace team-a\n"),
        ("bash", ("run",), "kubectl get namespaces -w\n"),
        ("bash", ("run",), f"{INTERRUPT_COMMENT}\nkubectl get namespaces\n"),
        ("yaml", (), "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n"),
        ("", (), "kubectl get ns -o go-template='{{range .items}}{{.metadata.name}} {{end}}'\n"),
    ]
    # A placeholder the lab's app view can find (it does not exist yet).
    assert ('Open the [dashboard](#lab-app-port-30080){: .lab-app-port title="The lab machine\'s '
            'port 30080: the lab cannot open it in the browser yet"} to see it.') in body


def test_it_reads_a_step_file_with_spaces_and_its_solution_sh(basic):
    meta, body = front_matter(basic[0] / "lessons" / "03-run-a-pod.md")
    assert meta["exercises"][0]["solution"] == {
        "commands": "kubectl run web --image=nginx -n team-a\n",
        "explanation": "The scenario's solution (step 2/solution.sh)."}
    assert body.startswith("\nRun a pod in `team-a` with `kubectl run web --image=nginx -n team-a` "
                           "and\ncheck it with `kubectl get pods -n team-a`.\n\n```bash run\n"
                           "kubectl run web --image=nginx -n team-a\nkubectl get pods -n team-a\n"
                           "```\n")
    assert "The namespace is `team-a` and the pod is `web`." in body
    assert f"```bash run\n{INTERRUPT_COMMENT}\nkubectl get pods -n team-a -o wide\n```" in body


def test_it_takes_commands_and_explanation_from_a_solution_md(basic):
    meta, _ = front_matter(basic[0] / "lessons" / "04-label-the-pod.md")
    assert meta["exercises"][0]["solution"] == {
        "commands": "kubectl label pod web -n team-a tier=frontend\n",
        "explanation": "Use `kubectl label` on the pod:\n\nLabels are key=value pairs."}


def test_it_leaves_no_killercoda_markers(basic):
    text = all_text(basic[0])
    assert not MARKERS.search(text), MARKERS.search(text)
    assert "{{range .items}}" in text  # a template inside code is not a marker


def test_it_copies_assets_with_chmod_and_lists_their_targets(basic):
    course_dir, out = basic
    assets = course_dir / "assets"
    assert sorted(str(p.relative_to(assets)) for p in assets.rglob("*") if p.is_file()) == [
        "manifests/namespace.yaml", "manifests/pod.yaml", "setup.sh", "usr/local/bin/tool.sh"]
    assert os.stat(assets / "setup.sh").st_mode & 0o777 == 0o755  # chmod +x on a 644 file
    assert os.stat(assets / "usr/local/bin/tool.sh").st_mode & 0o777 == 0o755  # chmod 755
    assert not os.stat(assets / "manifests" / "pod.yaml").st_mode & stat.S_IXUSR
    assert (assets / "setup.sh").read_text() == "#!/bin/bash\necho ready\n"
    warnings = warnings_of(out)
    assert ("WARNING: basic: assets: 4 file(s) copied to the course's assets/ folder; the lab puts "
            "them in the learner's home: setup.sh -> ~/setup.sh (chmod +x), namespace.yaml -> "
            "~/manifests/namespace.yaml, pod.yaml -> ~/manifests/pod.yaml") in warnings
    assert ("WARNING: basic: assets whose target is outside the learner's home go below the home "
            "instead: tool.sh (target /usr/local/bin) -> ~/usr/local/bin/tool.sh") in warnings


def test_it_prints_a_summary_and_every_warning(basic):
    _, out = basic
    assert "  basic (basic): 5 lesson(s), 3 exercise(s), 4 asset(s), tier full" in out
    assert "1 course(s), 5 lesson(s), 3 exercise(s), 12 warning(s)" in out
    warnings = warnings_of(out)
    assert len(warnings) == 12
    for expected in [
        "WARNING: basic: intro: the foreground script 'intro/foreground.sh' is not typed into the "
        "terminal automatically here; it is a runnable block at the top of the lesson",
        "WARNING: basic: intro: the background script 'intro/background.sh' became the course's "
        "setup (course.yaml `setup`), run once before the first lesson; on Killercoda it ran as "
        "root on the VM, so check that it works against the lab's sandbox",
        "WARNING: basic: tier full: the scenario uses the app in the browser "
        "({{TRAFFIC_HOST1_<port>}}) (step 1), kubectl logs (step 2)",
        "WARNING: basic: intro: image './images/arch.png' is a file of the scenario; the lab does "
        "not serve scenario files, so it will not show",
        "WARNING: basic: step 1: 1 command(s) were {{exec interrupt}}: the Run button does not "
        "press Ctrl-C, so a comment line in each tells the learner to press it first",
        "WARNING: basic: step 1: 'kubectl get namespaces -w' runs until interrupted, so it is left "
        "out of the exercise's solution",
        "WARNING: basic: step 1: links to {{TRAFFIC_HOST1_30080}} (Killercoda opens the VM's ports "
        "in the browser) became placeholder links (#lab-app-port-<port>, class lab-app-port): the "
        "lab's app view does not exist yet",
    ]:
        assert expected in warnings


# The odd scenario: everything real repositories get wrong ---------------------------------------

@pytest.fixture
def odd(tmp_path, capsys):
    code, out, err = run_import(capsys, SCENARIOS / "odd", tmp_path)
    assert code == 0, err
    return tmp_path / "odd", out


def test_it_imports_the_odd_scenario_with_a_warning_for_each_oddity(odd):
    _, out = odd
    assert warnings_of(out) == [
        "WARNING: odd: index.json field 'pathwayTitle' is not imported",
        "WARNING: odd: backend.imageid 'ubuntu': the lab has no VM: the learner gets a shell and a "
        "Kubernetes cluster, not root on a machine, so steps that need root, apt or systemd will "
        "not work",
        "WARNING: odd: interface.layout 'ide': the lab has no editor tab; the learner gets one "
        "terminal (with vi or nano) beside the lesson",
        "WARNING: odd: intro: the text 'intro.md' does not exist",
        "WARNING: odd: intro: the background script (Katacoda's courseData) 'env-init.sh' does not "
        "exist",
        "WARNING: odd: step 1: the verify script 'step1/verify.sh' does not exist",
        "WARNING: odd: step 1: no exercise, because its verify script could not be read",
        "WARNING: odd: step 2: no solution found (no solution.md or solution.sh in the step folder, "
        "no solution in the text and no {{exec}} code); the solution only explains, so test_course "
        "cannot prove this exercise",
        "WARNING: odd: step 3: the text '../../../../../../../../etc/passwd' is outside the "
        "scenario folder; refused (nothing outside the scenario is read)",
        "WARNING: odd: step 3: the background script '/etc/hostname' is outside the scenario "
        "folder; refused (nothing outside the scenario is read)",
        "WARNING: odd: step 3: the verify script '../basic/step1/verify.sh' is outside the "
        "scenario folder; refused (nothing outside the scenario is read)",
        "WARNING: odd: step 3: no exercise, because its verify script could not be read",
        "WARNING: odd: step 4: '{{execute T2}}' runs in another terminal tab or on another host "
        "(t2); here it runs in the learner's one terminal",
        "WARNING: odd: step 4: '{{open}}' is not after any code, or is unknown; it was removed",
        "WARNING: odd: step 4: '{{unknown_marker}}' is not after any code, or is unknown; it was "
        "removed",
        "WARNING: odd: step 4: a YAML code block (line 3 of the text) does not parse, so it is "
        "shown as plain text",
        "WARNING: odd: details.assets.host01[1]: asset 'nothing-here-*.txt' matches no file in the "
        "scenario's assets/ folder; skipped",
        "WARNING: odd: details.assets.host01[2]: asset '../index.json' is outside the scenario's "
        "assets/ folder; refused (nothing outside the scenario is read)",
        "WARNING: odd: details.assets.host01[3]: chmod 'sometimes' is not understood; ignored",
        "WARNING: odd: details.assets.host02: the lab has one machine, so assets for 'host02' are "
        "not imported",
        "WARNING: odd: assets: 1 file(s) copied to the course's assets/ folder; the lab puts them "
        "in the learner's home: config.txt -> ~/conf/config.txt",
        "WARNING: odd: '/root' (the learner's home on Killercoda) appears in the step 2 text; here "
        "the learner's home is elsewhere, so replace it with ~ or $HOME",
    ]


def test_the_odd_scenario_passes_validate_courses(odd, capsys):
    course_dir, _ = odd
    assert_valid(capsys, course_dir)
    data = yaml.safe_load((course_dir / "course.yaml").read_text())
    assert data["tier"] == "api"  # ubuntu
    assert data["lessons"] == ["introduction", "missing-verify", "no-solution", "escape", "step-4"]
    # "time": "15 minutes", shared out over the five lessons
    assert [lesson.minutes for lesson in load_course(course_dir).lessons] == [3, 3, 3, 3, 3]


def test_it_writes_a_placeholder_for_missing_and_refused_text(odd):
    course_dir, _ = odd
    _, intro = front_matter(course_dir / "lessons" / "01-introduction.md")
    assert intro.strip() == ("*The original text of this intro (`intro.md`) was missing when this "
                             "course was imported from Killercoda.*")
    meta, escape = front_matter(course_dir / "lessons" / "04-escape.md")
    assert meta == {"title": "Escape", "minutes": 3}  # no setup from /etc/hostname, no exercise
    assert "was missing" in escape
    assert "root:" not in all_text(course_dir)


def test_it_imports_a_step_without_a_readable_verify_script_as_a_lesson_only(odd):
    meta, body = front_matter(odd[0] / "lessons" / "02-missing-verify.md")
    assert meta == {"title": "Missing verify", "minutes": 3}
    assert "```bash run\necho hello > ~/notes.txt\n```" in body


def test_it_explains_a_solution_it_cannot_find(odd):
    meta, _ = front_matter(odd[0] / "lessons" / "03-no-solution.md")
    solution = meta["exercises"][0]["solution"]
    assert solution["commands"].startswith("# ")  # a comment: nothing for test_course to type
    assert "no solution" in solution["explanation"]


def test_it_shows_broken_yaml_as_text_and_drops_unknown_markers(odd):
    meta, body = front_matter(odd[0] / "lessons" / "05-step-4.md")
    assert meta == {"title": "Step 4", "minutes": 3}  # a step without a title
    assert "```text\napiVersion: v1\nkind: Pod\nmetadata:\n  name: [broken\n```" in body
    assert "```bash run\nls\n```" in body
    assert "Open the file and the text and a template {{ .Values.image }}." in body
    assert not MARKERS.search(body)


# Tiers, several scenarios, slugs, errors --------------------------------------------------------

def test_it_describes_two_nodes_and_picks_the_api_tier_for_api_objects_only(tmp_path, capsys):
    code, out, _ = run_import(capsys, SCENARIOS / "two-nodes", tmp_path)
    assert code == 0
    data = yaml.safe_load((tmp_path / "two-nodes" / "course.yaml").read_text())
    assert data["tier"] == "api"  # it only labels nodes: no container needs to run
    assert data["nodes"] == [
        {"name": "controlplane", "role": "control-plane",
         "taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]},
        {"name": "node01", "role": "worker"}]
    assert warnings_of(out) == [
        "WARNING: two-nodes: backend.imageid 'kubernetes-kubeadm-2nodes': two nodes, controlplane "
        "(control plane, tainted NoSchedule) and node01 (worker): course.yaml's nodes says so",
        "WARNING: two-nodes: tier api: the scenario only works with API objects (no exec, logs, "
        "container runtime or traffic), which an API cluster serves in seconds; import it with "
        "--tier full for real containers"]
    assert_valid(capsys, tmp_path)


def test_it_imports_each_scenario_of_a_structure_json_and_warns_about_a_missing_one(tmp_path,
                                                                                    capsys):
    code, out, _ = run_import(capsys, SCENARIOS / "repo", tmp_path)
    assert code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first", "second-scenario"]
    assert warnings_of(out) == [
        "WARNING: does-not-exist: listed in structure.json but there is no such folder; skipped "
        "(the others are imported)",
        "WARNING: second scenario: tier api: the scenario only works with API objects (no exec, "
        "logs, container runtime or traffic), which an API cluster serves in seconds; import it "
        "with --tier full for real containers"]
    assert "2 course(s), 4 lesson(s), 1 exercise(s), 2 warning(s)" in out
    first = yaml.safe_load((tmp_path / "first" / "course.yaml").read_text())
    assert first["tier"] == "api"  # no backend
    assert first["lessons"] == ["introduction", "say-hello", "finish"]
    second = yaml.safe_load((tmp_path / "second-scenario" / "course.yaml").read_text())
    assert (second["title"], second["tier"]) == ("Second Scenario", "api")  # a ConfigMap only
    assert_valid(capsys, tmp_path)


def test_it_refuses_malformed_index_json_and_writes_nothing(tmp_path, capsys):
    out_dir = tmp_path / "out"
    code, out, err = run_import(capsys, SCENARIOS / "broken-json", out_dir)
    assert code == 1
    index = (SCENARIOS / "broken-json" / "index.json").resolve()
    assert (f"ERROR: broken-json: {index}:8:3: not valid JSON: Expecting ',' delimiter "
            "(line 8, column 3)") in err
    assert "Nothing was written." in err
    assert not out_dir.exists()


def test_it_writes_nothing_when_one_scenario_of_a_repository_is_broken(tmp_path, capsys):
    repo = tmp_path / "repo"
    shutil.copytree(SCENARIOS / "repo", repo)
    shutil.copytree(SCENARIOS / "broken-json", repo / "broken")
    (repo / "structure.json").write_text('{"items": [{"path": "first"}, {"path": "broken"}]}')
    code, _, err = run_import(capsys, repo, tmp_path / "out")
    assert code == 1
    assert "ERROR: broken: " in err and "index.json:8:3: not valid JSON" in err
    assert not (tmp_path / "out").exists()


def test_it_refuses_a_malformed_structure_json(tmp_path, capsys):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "structure.json").write_text('{"items": [')
    code, _, err = run_import(capsys, tmp_path / "src", tmp_path / "out")
    assert code == 1
    assert "structure.json:1:12: not valid JSON" in err


def test_it_imports_every_scenario_folder_when_there_is_no_structure_json(tmp_path, capsys):
    src = tmp_path / "src"
    shutil.copytree(SCENARIOS / "two-nodes", src / "b")
    shutil.copytree(SCENARIOS / "repo" / "first", src / "a")
    code, out, _ = run_import(capsys, src, tmp_path / "out")
    assert code == 0
    assert "WARNING: src: no index.json or structure.json here: importing the 2 scenario " \
           "folder(s) found below, in name order" in out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a", "b"]


def test_it_fails_when_there_is_nothing_to_import(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code, _, err = run_import(capsys, tmp_path / "empty", tmp_path / "out")
    assert code == 1
    assert "no index.json or structure.json" in err
    code, _, err = run_import(capsys, tmp_path / "nowhere", tmp_path / "out")
    assert code == 1
    assert "no such folder" in err


def test_it_uses_slug_and_never_overwrites_an_existing_course(tmp_path, capsys):
    assert run_import(capsys, SCENARIOS / "two-nodes", tmp_path, "--slug", "My Course!")[0] == 0
    assert run_import(capsys, SCENARIOS / "two-nodes", tmp_path, "--slug", "my-course")[0] == 0
    assert run_import(capsys, SCENARIOS / "two-nodes", tmp_path)[0] == 0
    assert run_import(capsys, SCENARIOS / "repo", tmp_path, "--slug", "kc")[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "kc-first", "kc-second-scenario", "my-course", "my-course-2", "two-nodes"]
    assert_valid(capsys, tmp_path)


def test_it_never_takes_the_slug_of_a_bundled_course(tmp_path, capsys):
    src = tmp_path / "kubernetes-architecture"
    shutil.copytree(SCENARIOS / "two-nodes", src)
    assert run_import(capsys, src, tmp_path / "out")[0] == 0
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["kubernetes-architecture-2"]


def test_it_writes_to_the_first_course_dir_by_default(tmp_path, capsys, settings):
    settings.COURSE_DIRS = [tmp_path / "courses", tmp_path / "more"]
    call_command("import_killercoda", str(SCENARIOS / "two-nodes"))
    capsys.readouterr()
    assert (tmp_path / "courses" / "two-nodes" / "course.yaml").is_file()


def test_it_handles_spaces_in_the_source_and_output_paths(tmp_path, capsys):
    src = tmp_path / "my scenarios" / "pods and namespaces"
    shutil.copytree(SCENARIOS / "basic", src)
    out_dir = tmp_path / "my courses"
    code, out, _ = run_import(capsys, src, out_dir)
    assert code == 0
    course_dir = out_dir / "pods-and-namespaces"
    assert (course_dir / "lessons" / "03-run-a-pod.md").is_file()
    assert "WARNING: pods and namespaces: " in out
    assert_valid(capsys, course_dir)


def test_it_never_reads_outside_the_scenario_even_through_a_link(tmp_path, capsys):
    secret = tmp_path / "secret.md"
    secret.write_text("TOP SECRET\n")
    src = tmp_path / "scenario"
    (src / "assets").mkdir(parents=True)
    (src / "step1").mkdir()
    os.symlink(secret, src / "step1" / "text.md")
    os.symlink(secret, src / "assets" / "leak.md")
    os.symlink(tmp_path, src / "assets" / "everything")
    (src / "index.json").write_text("""{"title": "Links", "details": {
        "intro": {"text": "../secret.md"},
        "steps": [{"title": "One", "text": "step1/text.md"},
                  {"title": "Two", "text": "step1/../../secret.md"}],
        "assets": {"host01": [{"file": "*", "target": "/root"}]}}}""")
    code, out, _ = run_import(capsys, src, tmp_path / "out")
    assert code == 0
    written = tmp_path / "out" / "scenario"
    assert "TOP SECRET" not in all_text(written)
    assert not (written / "assets").exists()
    warnings = warnings_of(out)
    assert "WARNING: scenario: intro: the text '../secret.md' is outside the scenario folder; " \
           "refused (nothing outside the scenario is read)" in warnings
    assert "WARNING: scenario: step 1: the text 'step1/text.md' is outside the scenario folder; " \
           "refused (nothing outside the scenario is read)" in warnings
    assert any("asset 'leak.md' links outside the scenario folder" in w for w in warnings)
    assert any("asset 'everything' links outside the scenario folder" in w for w in warnings)
    assert_valid(capsys, written)


def test_it_exits_with_the_right_code_from_the_command_line(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "manage.py", "import_killercoda", *args,
                               "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                              env=child_env(), timeout=120)

    broken = run(str(SCENARIOS / "broken-json"))
    assert broken.returncode == 1
    assert "not valid JSON" in broken.stderr
    good = run(str(SCENARIOS / "two-nodes"))
    assert good.returncode == 0, good.stderr
    assert "WARNING: two-nodes: backend.imageid 'kubernetes-kubeadm-2nodes'" in good.stdout
    full = run(str(SCENARIOS / "two-nodes"), "--tier", "full")
    assert full.returncode == 0, full.stderr
    assert "two-nodes-2 (two-nodes): 1 lesson(s), 1 exercise(s), 0 asset(s), tier full" \
        in full.stdout
    wrong = run(str(SCENARIOS / "two-nodes"), "--tier", "vm")
    assert wrong.returncode == 2 and "invalid choice: 'vm'" in wrong.stderr


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_test_course_proves_an_imported_scenario_on_the_api_tier(course_dir, capsys):
    """The verify scripts become checks that fail on a fresh sandbox and pass after the
    solution (the step's {{exec}} code, its solution.sh, or the <details> solution of its text),
    with the background as setup; a verify script that waits gets its longer timeout."""
    assert run_import(capsys, SCENARIOS / "api-proof", course_dir)[0] == 0
    call_command("test_course", "api-proof", "--tier", "api", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["ok"], report
    assert [e["slug"] for e in report["exercises"]] == ["make-a-config-map", "label-it",
                                                        "annotate-it"]
