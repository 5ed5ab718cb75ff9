"""The full tier's terminal: the learner's shell runs in the toolbox pod of their kind cluster,
through the same protocol (real Docker and kind; skipped where the full tier is not built)."""
import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from sandboxes import lifecycle
from sandboxes.models import Sandbox, State
from sandboxes.terminal import registry
from tests.sandboxes.helpers import kind_clusters_or_skip
from tests.terminal.wsclient import Term

pytestmark = [pytest.mark.cluster, pytest.mark.asyncio]


@pytest.fixture(scope="module")
def kind_cluster():
    with kind_clusters_or_skip("k8slab-test-kind") as clusters:
        yield clusters["k8slab-test-kind"]


@pytest.fixture
def full_sandbox(kind_cluster, owner, transactional_db, settings):
    sandbox = Sandbox.objects.create(owner=owner, tier="full", backend="kind", state=State.READY,
                                     host=settings.LAB_HOST, cluster="k8slab-test-kind",
                                     ready_at=timezone.now())
    sandbox.kubeconfig = str(lifecycle.install_kubeconfig(sandbox, kind_cluster))
    sandbox.save()
    yield sandbox
    async_to_sync(registry.close_all)()


async def test_the_shell_runs_in_the_toolbox_pod_and_sees_real_pods(owner, full_sandbox):
    term = await Term.open(owner, full_sandbox.id)
    hello = await term.control_message("hello", timeout=60)
    assert hello["readonly"] is False
    await term.until(b"$ ", timeout=60)
    out = await term.run("hostname; kubectl get pods -n kube-system", "k1", timeout=60)
    assert "toolbox" in out
    for component in ("etcd-", "kube-apiserver-", "kube-scheduler-", "kube-controller-manager-"):
        assert component in out and "Running" in out
    await term.send_json({"type": "resize", "cols": 120, "rows": 33})
    import asyncio
    await asyncio.sleep(0.5)
    out = await term.run("stty size", "k2", timeout=30)
    assert "33 120" in out
    await term.close()


async def test_in_the_toolbox_a_reconnect_resumes_and_ctrl_c_stops_a_flood(owner, full_sandbox):
    """The pod target keeps the local target's protocol: resume by session and scrollback,
    flow control, Ctrl-C through kubectl exec, and the command record for the checks."""
    from sandboxes.models import CommandRecord
    term = await Term.open(owner, full_sandbox.id)
    hello = await term.control_message("hello", timeout=60)
    await term.until(b"$ ", timeout=60)
    out = await term.run("echo pid=$$", "t1", timeout=60)
    pid = out.split("pid=")[1].split()[0]
    await term.close()
    again = await Term.open(owner, full_sandbox.id)
    assert (await again.control_message("hello", timeout=60))["session"] == hello["session"]
    await again.until(f"pid={pid}".encode(), timeout=30)
    await again.type("yes\r")
    await again.until(b"y\r\ny\r\ny\r\n" * 100, timeout=30)
    await again.type("\x03")
    again.output.clear()
    out = await again.run("echo pid=$$; kubectl get ns kube-system -o name", "t2", timeout=60)
    assert f"pid={pid}" in out and "namespace/kube-system" in out
    import asyncio
    for _ in range(100):  # the record is written just after the prompt comes back
        lines = [r.line async for r in CommandRecord.objects.filter(sandbox=full_sandbox)]
        if any(line.startswith("echo pid=$$; kubectl get ns") for line in lines):
            break
        await asyncio.sleep(0.1)
    assert any(line.startswith("echo pid=$$; kubectl get ns kube-system") for line in lines)
    await again.close()
