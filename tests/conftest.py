"""Fixtures shared by all tests: real Redis, a real Celery worker, a real uvicorn server, and
the three people most tests need (a learner who owns things, another learner, an instructor)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.utils import timezone

from sandboxes import lifecycle
from sandboxes.backends import get_backend
from sandboxes.models import Sandbox, State
from sandboxes.terminal import registry
from tests import harness
from tests.processes import start_redis, start_web, start_worker


@pytest.fixture(scope="session", autouse=True)
def collected_static():
    """Pages name their static files through the manifest; collect them as `make run` does."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(scope="session", autouse=True)
def redis_server():
    service = start_redis(harness.REDIS_PORT)
    yield service
    service.stop()


def _test_db_env() -> dict:
    """The environment that points a child process at the test database."""
    name = settings.DATABASES["default"]["NAME"]
    return {"DATABASE_URL": f"sqlite:///{name}"} if "sqlite" in settings.DATABASES["default"]["ENGINE"] else {}


class WorkerHandle:
    """The session's real Celery worker; a test may kill it and start it again."""

    def __init__(self):
        self.service = start_worker(_test_db_env())

    def restart(self, **env):
        """Start it again, optionally with other settings (environment variables)."""
        self.service.stop()
        self.service = start_worker({**_test_db_env(), **env})

    def output(self):
        return self.service.output()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    handle = WorkerHandle()
    yield handle
    handle.service.stop()


@pytest.fixture(scope="session")
def web_server(django_db_setup, django_db_blocker):
    port = harness.free_port()
    service = start_web(port, _test_db_env())
    service.url = f"http://127.0.0.1:{port}"
    yield service
    service.stop()


@pytest.fixture
def lab_url(web_server, transactional_db):
    """The URL of a real uvicorn serving the lab, on the test database (committed data)."""
    return web_server.url


@pytest.fixture
def password():
    return "correct-horse-battery-staple-42"


@pytest.fixture
def owner(django_user_model, password):
    return django_user_model.objects.create_user("alice", "alice@example.com", password)


@pytest.fixture
def other(django_user_model, password):
    return django_user_model.objects.create_user("mallory", "mallory@example.com", password)


@pytest.fixture
def instructor(django_user_model, password):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user("irene", "irene@example.com", password)
    user.groups.add(Group.objects.get_or_create(name="instructors")[0])
    return user


@pytest.fixture
def artifacts_dir() -> Path:
    path = Path(settings.BASE_DIR) / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def course_dir(tmp_path, settings):
    """A private COURSE_DIRS for tests that write course files."""
    settings.COURSE_DIRS = [tmp_path]
    return tmp_path


@pytest.fixture(scope="module")
def api_cluster():
    """One real API-tier cluster for the module's tests (creating one per test costs ~5 s).
    Tests that change what is in it clean up after themselves."""
    backend = get_backend("api")
    name = "k8slab-test-mod"
    kubeconfig = backend.create(name, lambda *a: None)
    yield name, kubeconfig
    backend.delete(name)


def make_ready_sandbox(api_cluster, user) -> Sandbox:
    """A ready api-tier sandbox of user's on the module's cluster (several may share it)."""
    name, kubeconfig = api_cluster
    sandbox = Sandbox.objects.create(owner=user, tier="api", backend="kwok", state=State.READY,
                                     host=settings.LAB_HOST, cluster=name + "-" + user.username[:3],
                                     ready_at=timezone.now())
    sandbox.kubeconfig = str(lifecycle.install_kubeconfig(sandbox, kubeconfig))
    sandbox.save()
    return sandbox


@pytest.fixture
def ready_sandbox(api_cluster, owner, transactional_db, settings):
    sandbox = make_ready_sandbox(api_cluster, owner)
    yield sandbox
    async_to_sync(registry.close_all)()
    lifecycle.remove_files(sandbox)  # its jail's processes, cgroups and home mount too


def pytest_report_header(config):
    return [f"lab data dir: {os.environ['LAB_DATA_DIR']}", f"redis: {os.environ['REDIS_URL']}"]
