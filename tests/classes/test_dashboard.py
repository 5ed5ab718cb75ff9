import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from classes.models import Cohort, Membership
from courses.models import ExerciseProgress
from sandboxes.access import can_watch
from sandboxes.models import Sandbox, State

pytestmark = pytest.mark.django_db
C = "kubernetes-architecture"


@pytest.fixture
def cohort(instructor):
    return Cohort.objects.create(name="Monday group", course=C, instructor=instructor)


@pytest.fixture
def other_instructor(django_user_model):
    user = django_user_model.objects.create_user("ivan", "ivan@example.com", "x-long-password-1")
    user.groups.add(Group.objects.get_or_create(name="instructors")[0])
    return user


def test_an_instructor_creates_a_class_and_gets_a_join_link(client, instructor):
    client.force_login(instructor)
    response = client.post(reverse("class-list"), {"name": "Tuesday", "course": C})
    cohort = Cohort.objects.get(name="Tuesday")
    assert response["Location"] == reverse("class-detail", args=[cohort.pk])
    page = client.get(response["Location"]).content.decode()
    assert f"/join/{cohort.join_code}/" in page


def test_a_learner_joins_with_the_link(client, owner, cohort):
    client.force_login(owner)
    url = reverse("class-join", args=[cohort.join_code])
    assert "Join the class" in client.get(url).content.decode()
    assert client.post(url)["Location"] == reverse("course", args=[C])
    assert Membership.objects.filter(cohort=cohort, user=owner).exists()
    client.post(url)  # joining twice is harmless
    assert Membership.objects.filter(cohort=cohort, user=owner).count() == 1


def test_a_bad_join_link_is_404(client, owner):
    client.force_login(owner)
    assert client.get(reverse("class-join", args=["nope"])).status_code == 404


def test_the_matrix_shows_learners_and_exercises(client, instructor, owner, cohort):
    Membership.objects.create(cohort=cohort, user=owner)
    ExerciseProgress.objects.create(user=owner, course=C, lesson="control-plane",
                                    exercise="explore-cluster", first_passed_at=timezone.now(),
                                    attempts=2, passed=True)
    ExerciseProgress.objects.create(user=owner, course=C, lesson="kubectl", exercise="scale-my-app",
                                    attempts=1, solution_revealed_at=timezone.now())
    client.force_login(instructor)
    data = client.get(reverse("class-matrix", args=[cohort.pk])).json()
    assert [e["slug"] for e in data["exercises"]][:2] == ["explore-cluster", "control-plane-quiz"]
    row = data["learners"][0]
    cells = {c["exercise"]: c for c in row["cells"]}
    assert row["user"] == "alice" and row["done"] == 1
    assert cells["explore-cluster"]["passed"] and cells["explore-cluster"]["attempts"] == 2
    assert cells["scale-my-app"]["solution_revealed"] and not cells["scale-my-app"]["passed"]


def test_the_csv_export_has_a_row_per_learner_and_exercise(client, instructor, owner, cohort, django_user_model):
    Membership.objects.create(cohort=cohort, user=owner)
    sneaky = django_user_model.objects.create_user("=HYPERLINK(1)")
    Membership.objects.create(cohort=cohort, user=sneaky)
    client.force_login(instructor)
    response = client.get(reverse("class-export", args=[cohort.pk]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["learner", "lesson", "exercise", "passed", "first_passed_at", "attempts", "solution_revealed"]
    assert len(rows) == 1 + 2 * 9
    assert all(not r[0].startswith("=") for r in rows[1:])


def test_a_student_cannot_open_the_dashboard(client, owner, cohort):
    client.force_login(owner)
    assert client.get(reverse("class-list")).status_code == 403
    assert client.get(reverse("class-detail", args=[cohort.pk])).status_code == 403
    assert client.get(reverse("class-export", args=[cohort.pk])).status_code == 403


def test_an_instructor_cannot_open_another_instructors_class(client, other_instructor, cohort):
    client.force_login(other_instructor)
    assert client.get(reverse("class-detail", args=[cohort.pk])).status_code == 404
    assert client.get(reverse("class-matrix", args=[cohort.pk])).status_code == 404
    assert client.get(reverse("class-list")).status_code == 200


def _sandbox(user):
    return Sandbox.objects.create(owner=user, tier="api", backend="kwok", state=State.READY, host="x")


def test_watching_is_for_the_learners_own_instructor(instructor, other_instructor, owner, other, cohort):
    Membership.objects.create(cohort=cohort, user=owner)
    sandbox = _sandbox(owner)
    assert can_watch(instructor, sandbox)
    assert not can_watch(other_instructor, sandbox)  # teaches another class
    assert not can_watch(other, sandbox)  # a fellow student


def test_a_student_cannot_watch_or_stop_anothers_sandbox_through_the_class(client, owner, other, cohort):
    Membership.objects.create(cohort=cohort, user=owner)
    sandbox = _sandbox(owner)
    client.force_login(other)
    assert client.get(reverse("class-sandbox-watch", args=[cohort.pk, sandbox.id])).status_code == 403
    assert client.post(reverse("class-sandbox-stop", args=[cohort.pk, sandbox.id])).status_code == 403
    sandbox.refresh_from_db()
    assert sandbox.state == State.READY


def test_an_instructor_stops_a_learners_sandbox(client, instructor, owner, cohort):
    Membership.objects.create(cohort=cohort, user=owner)
    sandbox = _sandbox(owner)
    client.force_login(instructor)
    page = client.get(reverse("class-detail", args=[cohort.pk])).content.decode()
    assert str(sandbox.id) in page
    client.post(reverse("class-sandbox-stop", args=[cohort.pk, sandbox.id]))
    sandbox.refresh_from_db()
    assert sandbox.state == State.DELETING


def test_an_instructor_cannot_act_on_a_sandbox_outside_the_class(client, instructor, other, cohort):
    sandbox = _sandbox(other)  # not a member
    client.force_login(instructor)
    assert client.post(reverse("class-sandbox-stop", args=[cohort.pk, sandbox.id])).status_code == 404
