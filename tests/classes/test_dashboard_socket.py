"""The class dashboard's live socket: its instructor is told at once when a learner of the class
makes progress (and only then), through real Redis; nobody else may listen."""
import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group

from classes.models import Cohort, Membership
from courses.catalog import get_course
from courses.grading.engine import remember
from courses.grading.results import ExerciseResult
from lab.asgi import application
from tests.sockets import refusal
from tests.terminal.wsclient import session_cookie

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]
C = "kubernetes-architecture"


async def _open(user, cohort_id, origin=b"http://127.0.0.1"):
    headers = [(b"origin", origin), (b"host", b"127.0.0.1"),
               (b"cookie", f"sessionid={await session_cookie(user)}".encode())]
    communicator = WebsocketCommunicator(application, f"/ws/classes/{cohort_id}/", headers=headers)
    connected, code = await communicator.connect(timeout=20)
    return communicator, connected, code


@database_sync_to_async
def _class_with(instructor, *learners):
    cohort = Cohort.objects.create(name="Live", course=C, instructor=instructor)
    for learner in learners:
        Membership.objects.create(cohort=cohort, user=learner)
    return cohort


@database_sync_to_async
def _progress(user, slug="control-plane-quiz"):
    course = get_course(C)
    lesson = course.lesson("control-plane")
    remember(user, course, lesson, ExerciseResult(slug=slug, lesson="control-plane", passed=True,
                                                  checks=[]), attempt=True)


async def test_the_instructor_hears_of_a_learners_progress_at_once(instructor, owner, other):
    cohort = await _class_with(instructor, owner)
    communicator, connected, _ = await _open(instructor, cohort.pk)
    assert connected
    await _progress(other)  # not in this class: nothing
    assert await communicator.receive_nothing(timeout=1.5, interval=0.1)
    await _progress(owner)
    assert await communicator.receive_json_from(timeout=10) == {"type": "changed"}
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}
    await communicator.disconnect()


async def test_nobody_but_the_classes_instructor_may_listen(instructor, owner, django_user_model):
    cohort = await _class_with(instructor, owner)

    @database_sync_to_async
    def another_instructor():
        user = django_user_model.objects.create_user("ivan", "ivan@example.com", "x-long-password-1")
        user.groups.add(Group.objects.get_or_create(name="instructors")[0])
        return user

    for user in (owner, await another_instructor()):
        communicator, _, _ = await _open(user, cohort.pk)
        assert (await refusal(communicator))[0] == 4403
    communicator, connected, _ = await _open(instructor, cohort.pk, origin=b"http://evil.example")
    assert not connected  # refused at the handshake
    communicator, _, _ = await _open(instructor, 999999)
    assert (await refusal(communicator))[0] == 4403


async def test_a_learner_who_joins_later_is_followed_too(instructor, owner, client):
    cohort = await _class_with(instructor)
    communicator, connected, _ = await _open(instructor, cohort.pk)
    assert connected

    @database_sync_to_async
    def join():
        client.force_login(owner)
        assert client.post(f"/join/{cohort.join_code}/").status_code == 302

    await join()
    assert await communicator.receive_json_from(timeout=10) == {"type": "changed"}
    await _progress(owner)
    assert await communicator.receive_json_from(timeout=10) == {"type": "changed"}
    await communicator.disconnect()
