"""A learner's cluster whose API server dies is noticed: the reconciler restarts it once (their
objects survive), or fails the sandbox with a reason in their words when a restart cannot help;
/healthz counts ready clusters that answer and that do not, without failing the lab for them.
Real kwokctl clusters, killed for real."""
import os
import shutil
import signal
from pathlib import Path

import pytest

from sandboxes import lifecycle, liveness, reconciler
from sandboxes.backends import get_backend
from sandboxes.models import State
from tests.processes import wait_for
from tests.sandboxes.helpers import kubectl, running_processes_of, stop_all_and_wait, wait_state


@pytest.fixture
def ready_lab(owner, transactional_db, celery_worker):
    sandbox = lifecycle.start(owner, "api")
    wait_state(sandbox, State.READY, 180)
    yield sandbox
    stop_all_and_wait()


def _kill(sandbox, component: str) -> None:
    """SIGKILL one of the cluster's processes by its kwokctl pid file, and wait until it is gone."""
    pid_file = get_backend("api").cluster_dir(sandbox.cluster) / "pids" / f"{component}.pid"
    pid = int(pid_file.read_text().strip())
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not Path(f"/proc/{pid}").exists() or
             "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2], 20, f"{component} to die")


def _panel_json(client, owner, sandbox) -> dict:
    client.force_login(owner)
    return client.get(f"/sandboxes/{sandbox.id}/").json()


@pytest.mark.cluster
def test_a_killed_api_server_is_restarted_and_keeps_the_learners_objects(ready_lab, client, owner):
    backend = get_backend("api")
    kubectl(ready_lab.kubeconfig, "create", "namespace", "kept-through-restart")
    _kill(ready_lab, "kube-apiserver")
    assert not backend.answers(ready_lab.cluster)

    # Before the reconciler runs, /healthz says one ready cluster does not answer, and the lab
    # itself stays healthy.
    health = client.get("/healthz").json()
    assert health["sandboxes"]["ready"] == 1 and health["sandboxes"]["not_answering"] == 1
    assert not [name for name in health["down"] if "sandbox" in name]

    result = reconciler.reconcile()
    assert result["restarted"] == [str(ready_lab.id)] and result["dead"] == []
    ready_lab.refresh_from_db()
    assert ready_lab.state == State.READY
    assert backend.answers(ready_lab.cluster)
    assert "kept-through-restart" in kubectl(ready_lab.kubeconfig, "get", "namespaces").stdout
    kinds = list(ready_lab.events.values_list("kind", flat=True))
    assert kinds[-2:] == ["silent", "restarted"]
    # The learner's page is told: the panel's JSON carries the notice it shows.
    panel = _panel_json(client, owner, ready_lab)
    assert panel["state"] == "ready" and panel["step"] == liveness.RESTARTED_STEP
    assert panel["message"] == liveness.RESTARTED_MESSAGE
    health = client.get("/healthz").json()
    assert health["sandboxes"]["answering"] == 1 and health["sandboxes"]["not_answering"] == 0


@pytest.mark.cluster
def test_a_healthy_cluster_is_left_alone(ready_lab):
    result = reconciler.reconcile()
    assert result["restarted"] == [] and result["dead"] == []
    assert "silent" not in ready_lab.events.values_list("kind", flat=True)


@pytest.mark.cluster
def test_a_cluster_that_cannot_be_restarted_fails_with_the_learners_reason(ready_lab, client, owner):
    backend = get_backend("api")
    _kill(ready_lab, "kube-apiserver")
    # Its kwokctl configuration is gone: kwokctl cannot start anything of it again.
    (backend.cluster_dir(ready_lab.cluster) / "kwok.yaml").unlink()
    result = reconciler.reconcile()
    assert result["dead"] == [str(ready_lab.id)]
    ready_lab.refresh_from_db()
    assert ready_lab.state == State.FAILED and ready_lab.failure == liveness.DEAD_REASON
    assert "restart-failed" in ready_lab.events.values_list("kind", flat=True)
    panel = _panel_json(client, owner, ready_lab)
    assert panel["state"] == "failed" and panel["failure"] == liveness.DEAD_REASON
    # Nothing of it is left running, though kwokctl itself could not stop it.
    wait_for(lambda: running_processes_of(ready_lab.cluster) == [], 20, "its processes to end")
    assert ready_lab.cluster not in backend.list_clusters()


@pytest.mark.cluster
def test_a_cluster_whose_directory_was_removed_fails_and_leaves_no_process(ready_lab, client, owner):
    backend = get_backend("api")
    _kill(ready_lab, "kube-apiserver")
    shutil.rmtree(backend.cluster_dir(ready_lab.cluster))
    result = reconciler.reconcile()
    assert result["lost"] == [str(ready_lab.id)]
    panel = _panel_json(client, owner, ready_lab)
    assert panel["state"] == "failed" and panel["failure"] == reconciler.LOST_REASON
    assert "progress is kept" in panel["failure"]
    wait_for(lambda: running_processes_of(ready_lab.cluster) == [], 20, "its processes to end")


class FlakyBackendFake:
    """A fake backend (a real API server cannot be made to miss exactly one probe on cue):
    each cluster answers according to its script of replies, then keeps the last one."""

    def __init__(self, replies: dict[str, list[bool]]):
        self.replies = replies

    def answers(self, cluster: str) -> bool:
        script = self.replies[cluster]
        return script.pop(0) if len(script) > 1 else script[0]


def test_one_missed_probe_is_not_a_death(monkeypatch):
    from types import SimpleNamespace

    monkeypatch.setattr(liveness, "PROBE_GAP_SECONDS", 0)
    backend = FlakyBackendFake({"hiccup": [False, True], "dead": [False, False], "fine": [True]})
    sandboxes = [SimpleNamespace(cluster=name) for name in ("hiccup", "dead", "fine")]
    assert [sb.cluster for sb in liveness.silent(backend, sandboxes)] == ["dead"]
