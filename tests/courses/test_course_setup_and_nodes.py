"""course.yaml's course-level `setup` and `nodes` (the cluster a course was written for):
loaded into the Course, and every mistake reported with its line by validate_courses."""
import pytest

from courses.course_files import load_course

LESSON = "---\ntitle: One\n---\n\nText.\n"
GOOD = """title: Two nodes
tier: api
setup: |
  kubectl create namespace shop
nodes:
  - name: controlplane
    role: control-plane
    taints:
      - {key: node-role.kubernetes.io/control-plane, effect: NoSchedule}
  - name: node01
    role: worker
    labels: {disk: ssd, topology.kubernetes.io/zone: zone-a}
lessons: [one]
"""


def course(tmp_path, course_yaml):
    folder = tmp_path / "c"
    (folder / "lessons").mkdir(parents=True)
    (folder / "lessons" / "01-one.md").write_text(LESSON)
    (folder / "course.yaml").write_text(course_yaml)
    return load_course(folder)


def test_it_loads_the_course_setup_and_its_nodes(tmp_path):
    loaded = course(tmp_path, GOOD)
    assert loaded.problems == []
    assert loaded.setup == "kubectl create namespace shop\n"
    assert [(n.name, n.role, n.labels, n.taints) for n in loaded.nodes] == [
        ("controlplane", "control-plane", {},
         [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]),
        ("node01", "worker", {"disk": "ssd", "topology.kubernetes.io/zone": "zone-a"}, [])]


def test_a_course_without_them_has_none(tmp_path):
    loaded = course(tmp_path, "title: Plain\nlessons: [one]\n")
    assert (loaded.problems, loaded.setup, loaded.nodes) == ([], "", [])


NODE = "  - name: controlplane\n    role: control-plane\n"


@pytest.mark.parametrize("nodes, line, words", [
    ("nodes: []\n", 2, "'nodes' is empty"),
    ("nodes: [a]\n", 2, "course node #1 must be a mapping with name and role"),
    ("nodes:\n  - role: control-plane\n", 3, "'name' is required"),
    ("nodes:\n  - name: Control_Plane\n    role: control-plane\n", 3,
     "a node name is lowercase letters, digits and dashes"),
    ("nodes:\n" + NODE + NODE, 5, "duplicate node name 'controlplane'"),
    ("nodes:\n" + NODE + "  - name: n1\n    role: master\n", 6, "role 'master' is not "
     "control-plane or worker"),
    ("nodes:\n  - name: n1\n    role: worker\n", 2, "needs a node with role control-plane"),
    ("nodes:\n" + NODE + "    labels: {disk: true}\n", 5, "label 'disk' must be text"),
    ("nodes:\n" + NODE + "    labels: {'bad key!': x}\n", 5, "is not a label key"),
    ("nodes:\n" + NODE + "    taints: [{key: dedicated, effect: Never}]\n", 5,
     "effect 'Never' is not one of NoSchedule, PreferNoSchedule, NoExecute"),
    ("nodes:\n" + NODE + "    taints: [{key: dedicated}]\n", 5, "'effect' is required"),
    ("nodes:\n" + NODE + "    zone: a\n", 5, "unknown field 'zone'"),
    ("nodes:\n" + NODE + "".join(f"  - name: n{i}\n    role: worker\n" for i in range(8)), 2,
     "'nodes' lists 9 nodes; at most 8"),
    ("nodes: two\n", 2, "'nodes' must be a list"),
    ("setup: [kubectl]\n", 2, "'setup' must be text"),
])
def test_it_reports_each_mistake_with_its_line(tmp_path, nodes, line, words):
    loaded = course(tmp_path, f"title: X\n{nodes}lessons: [one]\n")
    assert [(p.line, words in p.message) for p in loaded.problems] == [(line, True)], \
        [str(p) for p in loaded.problems]
