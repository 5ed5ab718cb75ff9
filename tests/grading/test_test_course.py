"""test_course proves the bundled course, and catches the two ways an exercise can be wrong."""
import json

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]


def test_the_bundled_course_passes_on_the_api_tier(capsys):
    call_command("test_course", "kubernetes-architecture", "--tier", "api", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["ok"], report
    slugs = [e["slug"] for e in report["exercises"]]
    assert slugs == ["explore-cluster", "control-plane-quiz", "inspect-node", "deploy-my-app",
                     "scale-my-app", "update-my-app", "rollback-my-app", "create-staging",
                     "takeaways-quiz"]


def _course(tmp, lesson_front):
    course = tmp / "demo"
    (course / "lessons").mkdir(parents=True)
    (course / "course.yaml").write_text("title: Demo\nlessons: [one]\n")
    (course / "lessons" / "01-one.md").write_text(f"---\ntitle: One\n{lesson_front}---\nText\n")
    return course


VACUOUS = """exercises:
  - slug: lazy
    title: A check that is true on any cluster
    checks:
      - kind: resource
        object: {kind: Namespace, name: default}
        exists: true
    solution:
      commands: kubectl get ns
"""

UNSOLVABLE = """exercises:
  - slug: impossible
    title: The solution does not do what the checks ask
    checks:
      - kind: resource
        object: {kind: Namespace, name: asked-for}
        exists: true
    solution:
      commands: kubectl create namespace something-else
"""


def test_a_check_that_passes_on_a_fresh_cluster_is_reported_as_vacuous(course_dir, capsys, settings):
    _course(course_dir, VACUOUS)
    with pytest.raises(SystemExit) as exit_info:
        call_command("test_course", "demo", "--json")
    assert exit_info.value.code == 1
    report = json.loads(capsys.readouterr().out)
    problems = report["exercises"][0]["problems"]
    assert any("vacuous" in p for p in problems) and any("passes before its solution" in p for p in problems)


def test_an_exercise_its_solution_does_not_solve_is_reported(course_dir, capsys, monkeypatch):
    from courses.grading import course_test
    monkeypatch.setattr(course_test, "PASS_DEADLINE", 3)
    _course(course_dir, UNSOLVABLE)
    with pytest.raises(SystemExit):
        call_command("test_course", "demo", "--json")
    report = json.loads(capsys.readouterr().out)
    problem = report["exercises"][0]["problems"][0]
    assert "does not pass after its solution" in problem and "asked-for" in problem
