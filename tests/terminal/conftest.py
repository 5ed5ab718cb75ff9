import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from sandboxes import lifecycle
from sandboxes.backends import get_backend
from sandboxes.models import Sandbox, State
from sandboxes.terminal import registry


@pytest.fixture(scope="module")
def api_cluster():
    """One real API-tier cluster for the module's tests (creating one per test costs ~5 s)."""
    backend = get_backend("api")
    name = "k8slab-test-term"
    kubeconfig = backend.create(name, lambda *a: None)
    yield name, kubeconfig
    backend.delete(name)


@pytest.fixture
def ready_sandbox(api_cluster, owner, transactional_db, settings):
    name, kubeconfig = api_cluster
    sandbox = Sandbox.objects.create(owner=owner, tier="api", backend="kwok", state=State.READY,
                                     host=settings.LAB_HOST, cluster=name + "-" + owner.username[:3],
                                     ready_at=timezone.now())
    sandbox.kubeconfig = str(lifecycle._install_kubeconfig(sandbox, kubeconfig))
    sandbox.save()
    yield sandbox
    async_to_sync(registry.close_all)()
    import shutil
    shutil.rmtree(lifecycle.sandbox_dir(sandbox), ignore_errors=True)
