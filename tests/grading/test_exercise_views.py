"""The exercise panel's endpoints: answers are checked on the server, bad input gets a clear
message and never a 500, and revealing a solution is recorded."""
import pytest
from django.urls import reverse

from courses.models import ExerciseProgress, QuizAnswer

pytestmark = pytest.mark.django_db
C = "kubernetes-architecture"


def _url(name, lesson, exercise):
    return reverse(name, args=[C, lesson, exercise])


def test_a_right_quiz_answer_passes_and_is_saved(client, owner):
    client.force_login(owner)
    url = _url("exercise-answer", "control-plane", "control-plane-quiz")
    for check, answer in (("source-of-truth", "etcd"), ("picks-a-node", "kube-scheduler")):
        assert client.post(url, {"check": check, "answer": answer}).status_code == 200
    data = client.post(url, {"check": "front-door", "answer": "kube-apiserver"}).json()
    assert data["passed"] and data["done"]
    progress = ExerciseProgress.objects.get(user=owner, exercise="control-plane-quiz")
    assert progress.first_passed_at is not None and progress.attempts == 3


def test_a_wrong_answer_says_so_without_giving_the_right_one(client, owner):
    client.force_login(owner)
    data = client.post(_url("exercise-answer", "control-plane", "control-plane-quiz"),
                       {"check": "source-of-truth", "answer": "kube-scheduler"}).json()
    check = next(c for c in data["checks"] if c["id"] == "source-of-truth")
    assert not check["passed"] and "etcd" not in check["message"]


def test_multiple_choice_and_text_answers(client, owner):
    client.force_login(owner)
    url = _url("exercise-answer", "key-takeaways", "takeaways-quiz")
    data = client.post(url, {"check": "required-fields", "answer": ["spec", "kind", "metadata", "apiVersion"]}).json()
    assert next(c for c in data["checks"] if c["id"] == "required-fields")["passed"]
    data = client.post(url, {"check": "declarative", "answer": "  KUBECTL apply   -f "}).json()
    assert next(c for c in data["checks"] if c["id"] == "declarative")["passed"]


@pytest.mark.parametrize("payload,words", [
    ({"check": "declarative", "answer": "x" * 1_000_000}, "at most 500 characters"),
    ({"check": "declarative", "answer": ""}, "Write or pick an answer"),
    ({"check": "no-such-check", "answer": "etcd"}, "no such question"),
    ({"check": "backup", "answer": "<img src=x onerror=alert(1)>"}, "Pick one of the options"),
])
def test_bad_answers_get_a_clear_message_and_no_500(client, owner, payload, words):
    client.force_login(owner)
    response = client.post(_url("exercise-answer", "key-takeaways", "takeaways-quiz"), payload)
    assert response.status_code == 400
    assert words in response.json()["error"]
    assert not QuizAnswer.objects.exists()


def test_markup_in_a_text_answer_is_stored_as_text_and_shown_escaped(client, owner):
    client.force_login(owner)
    answer = "<script>alert(1)</script>"
    client.post(_url("exercise-answer", "key-takeaways", "takeaways-quiz"),
                {"check": "declarative", "answer": answer})
    page = client.get(reverse("lesson", args=[C, "key-takeaways"])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_revealing_the_solution_is_recorded_once(client, owner):
    client.force_login(owner)
    url = _url("exercise-solution", "kubectl", "scale-my-app")
    data = client.post(url).json()
    import re
    text = re.sub(r"<[^>]+>", "", data["html"])
    assert "kubectl scale deployment my-app --replicas=5 -n production" in text
    assert 'class="codehilite runnable"' in data["html"]
    first = ExerciseProgress.objects.get(user=owner, exercise="scale-my-app").solution_revealed_at
    client.post(url)
    assert ExerciseProgress.objects.get(user=owner, exercise="scale-my-app").solution_revealed_at == first


def test_the_solution_is_not_in_the_page_before_it_is_asked_for(client, owner):
    client.force_login(owner)
    page = client.get(reverse("lesson", args=[C, "kubectl"])).content.decode()
    assert "--replicas=5 -n production" not in page.split('id="exercises"')[1]


def test_check_without_a_lab_explains_and_counts_the_attempt(client, owner):
    client.force_login(owner)
    data = client.post(_url("exercise-check", "object-model", "deploy-my-app")).json()
    assert not data["passed"] and data["attempts"] == 1
    assert all("Start your lab" in c["message"] for c in data["checks"])


def test_exercises_need_a_login_and_a_post(client, owner):
    assert client.post(_url("exercise-check", "kubectl", "scale-my-app")).status_code == 302
    client.force_login(owner)
    assert client.get(_url("exercise-check", "kubectl", "scale-my-app")).status_code == 405
    assert client.post(_url("exercise-check", "kubectl", "no-such")).status_code == 404


def test_a_gated_lesson_keeps_next_closed_until_its_exercises_pass(client, owner, course_dir):
    course = course_dir / "gated"
    (course / "lessons").mkdir(parents=True)
    (course / "course.yaml").write_text("title: Gated\nlessons: [one, two]\n")
    (course / "lessons" / "01-one.md").write_text(
        "---\ntitle: One\ngate: true\nexercises:\n  - slug: q\n    title: Q\n    checks:\n"
        "      - {kind: quiz, id: a, question: 'Two plus two?', type: text, answer: '4'}\n"
        "    solution: {answers: {a: '4'}}\n---\nText\n")
    (course / "lessons" / "02-two.md").write_text("---\ntitle: Two\n---\nText\n")
    client.force_login(owner)
    page = client.get(reverse("lesson", args=["gated", "one"])).content.decode()
    assert 'data-locked="true"' in page
    response = client.post(reverse("lesson-complete", args=["gated", "one"]), follow=True)
    assert "Finish this lesson" in response.content.decode()
    client.post(reverse("exercise-answer", args=["gated", "one", "q"]), {"check": "a", "answer": "4"})
    response = client.post(reverse("lesson-complete", args=["gated", "one"]))
    assert response["Location"] == reverse("lesson", args=["gated", "two"])


def test_the_course_page_shows_passed_exercises(client, owner):
    client.force_login(owner)
    for check, answer in (("source-of-truth", "etcd"), ("picks-a-node", "kube-scheduler"),
                          ("front-door", "kube-apiserver")):
        client.post(_url("exercise-answer", "control-plane", "control-plane-quiz"),
                    {"check": check, "answer": answer})
    page = client.get(reverse("course", args=[C])).content.decode()
    assert "1 of 2 exercises" in page


def test_a_full_tier_exercise_is_optional_where_the_lab_offers_no_full_clusters(client, owner, settings):
    settings.LAB_TIERS = ["api"]
    client.force_login(owner)
    page = client.get(reverse("lesson", args=[C, "worker-nodes"])).content.decode()
    assert "which this lab does not offer" in page
    # The lab panel's one button asks for what this lab can give: an API cluster.
    assert 'data-need-tier="api"' in page and "Start your API cluster" in page
    status = client.get(reverse("lesson-status", args=[C, "worker-nodes"])).json()
    tiers = {e["slug"]: (e["tier"], e["offered"], e["runnable"]) for e in status["exercises"]}
    assert tiers == {"inspect-node": ("api", True, False), "pod-logs": ("full", False, False),
                     "exec-into-pod": ("full", False, False)}
    # The course page counts only what the lab can run: 1 exercise in this lesson, not 3.
    course = client.get(reverse("course", args=[C])).content.decode()
    assert "0 of 1 exercise" in course

    settings.LAB_TIERS = ["api", "full"]
    page = client.get(reverse("lesson", args=[C, "worker-nodes"])).content.decode()
    assert 'data-need-tier="full"' in page and "Start your full cluster" in page
    assert page.count('data-action="get"') == 1 and 'data-action="start' not in page
    assert "0 of 3 exercises" in client.get(reverse("course", args=[C])).content.decode()


def test_a_full_tier_exercise_is_not_graded_on_an_api_cluster(client, owner, settings):
    from sandboxes.models import Sandbox, State
    settings.LAB_TIERS = ["api", "full"]
    Sandbox.objects.create(owner=owner, tier="api", backend="kwok", state=State.READY)
    client.force_login(owner)
    status = client.get(reverse("lesson-status", args=[C, "worker-nodes"])).json()
    runnable = {e["slug"]: e["runnable"] for e in status["exercises"]}
    assert runnable == {"inspect-node": True, "pod-logs": False, "exec-into-pod": False}
    logs = next(e for e in status["exercises"] if e["slug"] == "pod-logs")
    assert "checked on a full cluster" in next(c for c in logs["checks"] if c["id"] == "web-running")["message"]
