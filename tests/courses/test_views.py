import pytest
from django.urls import reverse

from courses.models import LessonProgress

pytestmark = pytest.mark.django_db
COURSE = "kubernetes-architecture"


def test_the_catalog_lists_the_course_for_everyone(client):
    response = client.get(reverse("catalog"))
    assert response.status_code == 200
    assert b"Kubernetes Architecture" in response.content
    assert reverse("course", args=[COURSE]).encode() in response.content


def test_the_course_page_lists_lessons_in_order(client):
    response = client.get(reverse("course", args=[COURSE]))
    body = response.content.decode()
    positions = [body.index(reverse("lesson", args=[COURSE, slug])) for slug in
                 ["what-is-kubernetes", "control-plane", "worker-nodes", "object-model",
                  "kubectl", "namespaces", "key-takeaways"]]
    assert positions == sorted(positions)
    assert "support@nvaitraining.com" in body


def test_a_lesson_needs_a_login(client):
    url = reverse("lesson", args=[COURSE, "control-plane"])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_lesson_shows_its_body_and_neighbours(client, owner):
    client.force_login(owner)
    response = client.get(reverse("lesson", args=[COURSE, "control-plane"]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "kube-apiserver" in body
    assert reverse("lesson", args=[COURSE, "what-is-kubernetes"]) in body  # previous
    assert 'class="code-copy"' in body
    assert LessonProgress.objects.filter(user=owner, lesson="control-plane").exists()


def test_finishing_a_lesson_records_it_and_goes_to_the_next(client, owner):
    client.force_login(owner)
    response = client.post(reverse("lesson-complete", args=[COURSE, "what-is-kubernetes"]))
    assert response.status_code == 302
    assert response["Location"] == reverse("lesson", args=[COURSE, "control-plane"])
    assert LessonProgress.objects.completed_slugs(owner, COURSE) == {"what-is-kubernetes"}
    page = client.get(reverse("course", args=[COURSE])).content.decode()
    assert "1 of 7 lessons finished" in page


def test_finishing_the_last_lesson_returns_to_the_course(client, owner):
    client.force_login(owner)
    response = client.post(reverse("lesson-complete", args=[COURSE, "key-takeaways"]))
    assert response["Location"] == reverse("course", args=[COURSE])


def test_finishing_needs_post(client, owner):
    client.force_login(owner)
    response = client.get(reverse("lesson-complete", args=[COURSE, "kubectl"]))
    assert response.status_code == 405


def test_progress_is_per_learner(client, owner, other):
    LessonProgress.complete(owner, COURSE, "kubectl")
    client.force_login(other)
    assert "0 of 7 lessons finished" in client.get(reverse("course", args=[COURSE])).content.decode()


def test_unknown_courses_and_lessons_are_404(client, owner):
    client.force_login(owner)
    assert client.get(reverse("course", args=["nope"])).status_code == 404
    assert client.get(reverse("lesson", args=[COURSE, "nope"])).status_code == 404


def test_a_broken_lesson_file_shows_its_problems_instead_of_a_500(client, owner, course_dir):
    course = course_dir / "demo"
    (course / "lessons").mkdir(parents=True)
    (course / "course.yaml").write_text("title: Demo\nlessons: [intro]\n")
    (course / "lessons" / "01-intro.md").write_text("---\ntitle: Intro\ntier: moon\n---\n## Hi\n")
    client.force_login(owner)
    response = client.get(reverse("lesson", args=["demo", "intro"]))
    assert response.status_code == 200
    assert "unknown tier &#x27;moon&#x27;" in response.content.decode()


def test_an_edited_lesson_shows_on_the_next_load(client, owner, course_dir):
    course = course_dir / "demo"
    (course / "lessons").mkdir(parents=True)
    (course / "course.yaml").write_text("title: Demo\nlessons: [intro]\n")
    lesson = course / "lessons" / "01-intro.md"
    lesson.write_text("---\ntitle: Intro\n---\nFirst version\n")
    client.force_login(owner)
    url = reverse("lesson", args=["demo", "intro"])
    assert "First version" in client.get(url).content.decode()
    lesson.write_text("---\ntitle: Intro\n---\nSecond version, longer\n")
    assert "Second version" in client.get(url).content.decode()
