"""courses.importers.killercoda and .writer as pure functions: index.json in, course objects and
warnings out, without writing anything."""
import json

import pytest

from courses.course_files import split_front_matter
from courses.importers.killercoda import read_source
from courses.importers.model import ImportedExercise, ImportedLesson
from courses.importers.slugs import slugify, unique
from courses.importers.writer import apply_chmod, dump_yaml, lesson_markdown
from courses.yaml_lines import load


def scenario(tmp_path, index, files=None, name="scn"):
    folder = tmp_path / name
    folder.mkdir(parents=True)
    (folder / "index.json").write_text(index if isinstance(index, str) else json.dumps(index))
    for rel, text in (files or {}).items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return folder


STEP = {"title": "T", "text": "s.md"}


ONE = [{"name": "controlplane", "role": "control-plane", "labels": {}, "taints": []}]
TWO = [{"name": "controlplane", "role": "control-plane", "labels": {},
        "taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]},
       {"name": "node01", "role": "worker", "labels": {}, "taints": []}]


@pytest.mark.parametrize("backend, nodes, warning", [
    (None, [], None),
    ({"imageid": "kubernetes-kubeadm-1node"}, ONE, "tier api: the scenario only works with API"),
    ({"imageid": "kubernetes-kubeadm-2nodes"}, TWO, "two nodes, controlplane (control plane"),
    ({"imageid": "ubuntu"}, [], "the lab has no VM"),
    ({"imageid": "kubernetes-kubeadm-1node-rapid"}, ONE, None),
    ({"imageid": "kubernetes-kubeadm-2nodes-rapid"}, TWO, "tainted NoSchedule"),
    ({"imageid": "kubernetes-k3s-1node"}, [], "not k3s"),
    ({"imageid": "ubuntu:2004"}, [], "the lab has no VM"),
    ({"imageid": "kubernetes-future"}, [], "'kubernetes-future' is not known"),
    ({"imageid": "docker"}, [], "'docker' is not known"),
    ({"imageid": "ubuntu", "cpus": 2}, [], "'backend.cpus' is not imported"),
])
def test_it_maps_backend_imageid_to_nodes(tmp_path, backend, nodes, warning):
    index = {"title": "X", "details": {"steps": [STEP]}}
    if backend is not None:
        index["backend"] = backend
    plan = read_source(scenario(tmp_path, index, {"s.md": "Hi."}))
    [course] = plan.courses
    assert [vars(node) for node in course.nodes] == nodes
    assert course.tier == "api"  # "Hi." needs no container, whatever the image was
    if warning is None:
        assert not [w for w in course.warnings if "imageid" in w], course.warnings
    else:
        assert any(warning in w for w in course.warnings), course.warnings


@pytest.mark.parametrize("code, need", [
    ("kubectl exec -it web -- sh", "kubectl exec"),
    ("kubectl -n app logs deploy/web", "kubectl logs"),
    ("k logs web", "kubectl logs"),
    ("kubectl port-forward svc/web 8080:80", "kubectl attach, cp, port-forward or debug"),
    ("kubectl run t --image=busybox --rm -it -- wget -qO- web", "an interactive pod"),
    ("crictl ps", "crictl"),
    ("docker ps", "docker, podman, nerdctl or ctr"),
    ("curl http://web-svc.app.svc.cluster.local", "HTTP requests to a Service"),
    ("curl -s localhost:30080", "HTTP requests to a Service"),
    ("wget -qO- $CLUSTER_IP", "HTTP requests to a Service"),
    ("ssh node01", "a node's shell"),
    ("cat /etc/kubernetes/manifests/etcd.yaml", "a node's shell"),
    ("kubectl top pods", "kubectl top"),
])
def test_it_picks_the_full_tier_from_what_the_code_needs(tmp_path, code, need):
    index = {"title": "X", "details": {"steps": [STEP]}}
    [course] = read_source(scenario(tmp_path, index, {"s.md": f"```\n{code}\n```{{{{exec}}}}\n"})
                           ).courses
    assert course.tier == "full"
    assert any(w.startswith("tier full: the scenario uses ") and need in w
               for w in course.warnings), course.warnings


@pytest.mark.parametrize("code", [
    "kubectl get pods -o wide",
    "kubectl rollout status deploy/web",
    "curl -LO https://dl.k8s.io/release/v1.30.0/bin/linux/amd64/kubectl",  # a download
    "kubectl create deployment docker-registry --image=registry:2",  # 'docker' in a name
])
def test_it_keeps_the_api_tier_for_api_objects(tmp_path, code):
    index = {"title": "X", "details": {"steps": [STEP]}}
    [course] = read_source(scenario(tmp_path, index, {"s.md": f"```\n{code}\n```{{{{exec}}}}\n"})
                           ).courses
    assert course.tier == "api", course.warnings


def test_prose_that_names_a_need_is_not_code(tmp_path):
    text = "Docker builds images; the logs say so. Use `kubectl get pods`{{exec}}.\n"
    index = {"title": "X", "details": {"steps": [STEP]}}
    [course] = read_source(scenario(tmp_path, index, {"s.md": text})).courses
    assert course.tier == "api"


def test_a_challenge_that_names_a_node_tool_in_prose_needs_a_node(tmp_path):
    text = "Use the etcdctl tool to take a snapshot of the cluster's state.\n"
    index = {"title": "X", "details": {"steps": [STEP]}}
    [course] = read_source(scenario(tmp_path, index, {"s.md": text})).courses
    assert course.tier == "full"
    assert any(w.startswith("the scenario uses a node's shell") for w in course.warnings)


def test_downloads_from_the_internet_are_reported_without_changing_the_tier(tmp_path):
    text = "```\nhelm repo add nginx-stable https://helm.nginx.com/stable\n```{{exec}}\n"
    index = {"title": "X", "details": {"steps": [STEP]}}
    [course] = read_source(scenario(tmp_path, index, {"s.md": text})).courses
    assert course.tier == "api"
    assert ("the scenario uses downloads from the internet (helm repo add, curl https://..., "
            "kubectl apply -f https://...) (step 1): the lab's clusters are built to work "
            "offline, so check that a sandbox can reach them, or ship the files as the "
            "scenario's assets") in course.warnings


def test_the_authors_tier_wins_and_says_what_it_loses(tmp_path):
    index = {"title": "X", "details": {"steps": [STEP]}}
    folder = scenario(tmp_path, index, {"s.md": "```\nkubectl logs web\n```{{exec}}\n"})
    [course] = read_source(folder, tier="api").courses
    assert course.tier == "api"
    assert ("tier api (--tier): the scenario uses kubectl logs (step 1), which need real "
            "containers: those steps will not work on an API cluster") in course.warnings
    [course] = read_source(folder, tier="full").courses
    assert course.tier == "full"


@pytest.mark.parametrize("layout, warned", [(None, False), ("terminal", False), ("ide", True),
                                            ("vscode", True)])
def test_it_warns_about_an_interface_layout_other_than_one_terminal(tmp_path, layout, warned):
    index = {"title": "X", "details": {"steps": [STEP]}}
    if layout:
        index["interface"] = {"layout": layout}
    [course] = read_source(scenario(tmp_path, index, {"s.md": "Hi."})).courses
    assert any("interface.layout" in w for w in course.warnings) == warned


def test_it_names_the_file_and_position_of_a_json_mistake(tmp_path):
    folder = scenario(tmp_path, '{"title": "X",\n  "details": {,}\n}')
    plan = read_source(folder)
    assert plan.courses == []
    assert plan.errors == [("scn", f"{folder / 'index.json'}:2:15: not valid JSON: Expecting "
                                   "property name enclosed in double quotes (line 2, column 15)")]


@pytest.mark.parametrize("content, words", [
    ('["a list"]', "must be a JSON object"),
    (b"\xff\xfe{}", "not UTF-8 text"),
])
def test_it_refuses_an_index_json_that_is_not_an_object_or_not_text(tmp_path, content, words):
    folder = tmp_path / "scn"
    folder.mkdir()
    path = folder / "index.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    plan = read_source(folder)
    assert plan.courses == [] and words in plan.errors[0][1]


def test_it_names_a_course_without_a_title_after_its_folder(tmp_path):
    [course] = read_source(scenario(tmp_path, {"details": {"steps": [STEP]}}, {"s.md": "Hi."},
                                    name="my_first-lab")).courses
    assert course.title == "My first lab"
    assert course.slug_hint == "my-first-lab"
    assert "index.json has no title; the course is called 'My first lab'" in course.warnings


def test_it_warns_about_every_field_it_does_not_know(tmp_path):
    index = {"title": "X", "pathwayTitle": "P",
             "details": {"steps": [{**STEP, "kind": "x"}], "finish": {"text": "f.md"},
                         "extras": 1},
             "interface": {"layout": "terminal", "theme": "dark"}}
    [course] = read_source(scenario(tmp_path, index, {"s.md": "Hi.", "f.md": "Bye."})).courses
    assert course.warnings == [
        "index.json field 'pathwayTitle' is not imported",
        "index.json field 'interface.theme' is not imported",
        "index.json field 'details.extras' is not imported",
        "step 1: field 'kind' is not imported",
    ]


def test_it_keeps_a_step_without_text_with_a_placeholder(tmp_path):
    index = {"title": "X", "details": {"steps": [{"title": "Only a title"}]}}
    [course] = read_source(scenario(tmp_path, index)).courses
    [lesson] = course.lessons
    assert "The original text of this step was missing" in lesson.body
    assert "step 1 has no text file; the lesson says the text is missing" in course.warnings


def test_it_refuses_a_structure_json_item_outside_the_source(tmp_path):
    scenario(tmp_path, {"title": "Outside", "details": {"steps": [STEP]}}, {"s.md": "x"},
             name="outside")
    repo = tmp_path / "repo"
    scenario(repo, {"title": "Inside", "details": {"steps": [STEP]}}, {"s.md": "x"}, name="in")
    (repo / "structure.json").write_text(json.dumps(
        {"items": [{"path": "in"}, {"path": "../outside"}, {"title": "no path"}]}))
    plan = read_source(repo)
    assert [c.title for c in plan.courses] == ["Inside"]
    assert plan.warnings == [
        ("../outside", f"structure.json lists '../outside', which is outside {repo}; refused "
                       "(nothing outside the source is read)"),
        ("repo", "structure.json: item #3 has no 'path'; skipped"),
    ]


def test_it_follows_a_nested_structure_json(tmp_path):
    repo = tmp_path / "repo"
    scenario(repo / "group", {"title": "Deep", "details": {"steps": [STEP]}}, {"s.md": "x"},
             name="deep")
    (repo / "structure.json").write_text('{"items": [{"path": "group"}]}')
    (repo / "group" / "structure.json").write_text('{"items": [{"path": "deep"}]}')
    plan = read_source(repo)
    assert [(c.label, c.title) for c in plan.courses] == [("group/deep", "Deep")]


def test_reading_writes_nothing(tmp_path):
    folder = scenario(tmp_path, {"title": "X", "details": {"steps": [STEP]}}, {"s.md": "x"})
    before = sorted(p.name for p in tmp_path.rglob("*"))
    read_source(folder)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("mode, spec, expected", [
    (0o644, "+x", 0o755), (0o644, "u+x", 0o744), (0o644, "755", 0o755), (0o755, "go-rx", 0o700),
    (0o644, "a=r", 0o444), (0o444, "+w", 0o666), (0o644, "u+x,g+w", 0o764),
])
def test_it_applies_chmod_like_chmod(mode, spec, expected):
    assert apply_chmod(mode, spec) == expected


def test_it_makes_slugs_and_keeps_them_unique():
    assert slugify("Step 2: Pods & Services (Ünïcode)") == "step-2-pods-services-unicode"
    assert slugify("!!!") == ""
    taken = {"intro"}
    assert [unique("intro", taken), unique("intro", taken), unique("x", taken)] == [
        "intro-2", "intro-3", "x"]


def test_a_script_with_a_front_matter_line_stays_inside_the_front_matter():
    script = "cat <<EOF | kubectl apply -f -\n---\napiVersion: v1\n...\nEOF\n"
    lesson = ImportedLesson(slug="s", title="S", body="Body.\n", setup=script,
                            exercise=ImportedExercise("s", "S", "g", script, script, "e"))
    front, body, _ = split_front_matter(lesson_markdown(lesson))
    meta = load(front)
    assert meta["setup"] == script
    assert meta["exercises"][0]["checks"][0]["script"] == script
    assert body.strip() == "Body."


def test_multi_line_text_is_written_as_a_readable_block():
    assert dump_yaml({"setup": "a\nb\n"}) == "setup: |\n  a\n  b\n"


@pytest.mark.parametrize("time, minutes", [
    ("15 minutes", [5, 5, 5]), ("10-20 min", [7, 7, 6]), ("1 hour", [20, 20, 20]), (4, [2, 1, 1]),
])
def test_it_shares_the_scenarios_time_out_over_the_lessons(tmp_path, time, minutes):
    index = {"title": "X", "time": time,
             "details": {"intro": {"text": "s.md"}, "steps": [STEP], "finish": {"text": "s.md"}}}
    [course] = read_source(scenario(tmp_path, index, {"s.md": "Hi."})).courses
    assert [lesson.minutes for lesson in course.lessons] == minutes
    assert course.warnings == []


def test_it_warns_about_a_time_it_does_not_understand(tmp_path):
    index = {"title": "X", "time": "a while", "details": {"steps": [STEP]}}
    [course] = read_source(scenario(tmp_path, index, {"s.md": "Hi."})).courses
    assert course.lessons[0].minutes == 0
    assert course.warnings == ["index.json 'time' 'a while' is not understood; lessons have no "
                               "minutes"]


@pytest.mark.parametrize("target, dest", [
    ("/root", "f.txt"), ("~", "f.txt"), ("~/a/b", "a/b/f.txt"), ("/root/x/", "x/f.txt"),
    ("rel", "rel/f.txt"), ("/opt/tools", "opt/tools/f.txt"), ("/root/../etc", "f.txt"),
])
def test_it_places_assets_below_the_learners_home(tmp_path, target, dest):
    index = {"title": "X", "details": {"steps": [STEP], "assets": {"host01": [
        {"file": "f.txt", "target": target}]}}}
    [course] = read_source(scenario(tmp_path, index, {"s.md": "Hi.", "assets/f.txt": "x"})).courses
    assert [str(a.dest) for a in course.assets] == [dest]


def test_asset_globs_keep_the_path_below_their_fixed_part(tmp_path):
    files = {"s.md": "Hi.", "assets/run.sh": "x", "assets/app1/readme.md": "x",
             "assets/app1/etc/app.json": "x", "assets/app1/config/c.json": "x"}
    index = {"title": "X", "details": {"steps": [STEP], "assets": {"host01": [
        {"file": "app1/readme.md", "target": "/root/one"},
        {"file": "app1/**/*.json", "target": "/root/json"},
        {"file": "*", "target": "/root/all"}]}}}
    [course] = read_source(scenario(tmp_path, index, files)).courses
    assert sorted(str(a.dest) for a in course.assets) == [
        "all/app1/config/c.json", "all/app1/etc/app.json", "all/app1/readme.md", "all/run.sh",
        "json/config/c.json", "json/etc/app.json", "one/readme.md"]
    assert not any("also another asset" in w for w in course.warnings)
