import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _course(root, body):
    course = root / "demo"
    (course / "lessons").mkdir(parents=True, exist_ok=True)
    (course / "course.yaml").write_text("title: Demo\nlessons: [intro]\n")
    (course / "lessons" / "01-intro.md").write_text(f"---\ntitle: Intro\n---\n{body}\n")


def test_the_version_changes_when_a_lesson_file_is_saved(client, instructor, course_dir):
    _course(course_dir, "one")
    client.force_login(instructor)
    first = client.get(reverse("course-version", args=["demo"])).json()["version"]
    assert client.get(reverse("course-version", args=["demo"])).json()["version"] == first
    _course(course_dir, "two, longer")
    assert client.get(reverse("course-version", args=["demo"])).json()["version"] != first


def test_instructors_get_the_auto_reload_hook_and_students_do_not(client, instructor, owner, course_dir):
    _course(course_dir, "text")
    url = reverse("lesson", args=["demo", "intro"])
    client.force_login(instructor)
    assert "data-preview-url" in client.get(url).content.decode()
    client.force_login(owner)
    assert "data-preview-url" not in client.get(url).content.decode()
