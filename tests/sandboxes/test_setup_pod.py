"""The full tier's setup pod: a course's setup script runs there as the cluster's administrator
(it may write kube-system), its time bounded inside the pod, while the learner can neither exec
into it nor borrow its account. The manifests are checked as the pure function makes them, then
on a real kind cluster through sandboxes.inspect.run_setup_script, as courses/setup.py calls it.
Real Docker and kind; skipped where the full tier is not built."""
import pytest
from django.utils import timezone

from sandboxes import inspect, lifecycle
from sandboxes.backends.kind import TOOLBOX_NAMESPACE, TOOLBOX_POD, policy, setup_pod
from sandboxes.models import Sandbox, State
from tests.sandboxes.helpers import kind_clusters_or_skip, kubectl

CLUSTER = "k8slab-test-setuppod"


def _by_kind(objects):
    return {o["kind"]: o for o in objects}


def test_the_setup_pod_is_cluster_admin_in_lab_system_and_unprivileged_on_the_node():
    objects = _by_kind(setup_pod.setup_manifests("k8s-lab/toolbox:1", "10.96.0.1"))
    binding = objects["ClusterRoleBinding"]
    assert binding["roleRef"]["name"] == "cluster-admin"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "lab-setup",
                                    "namespace": TOOLBOX_NAMESPACE}]
    assert TOOLBOX_NAMESPACE in policy.PROTECTED_NAMESPACES  # the learner cannot reach it
    pod = objects["Pod"]
    assert pod["metadata"]["namespace"] == TOOLBOX_NAMESPACE
    spec = pod["spec"]
    assert spec["serviceAccountName"] == "lab-setup"
    assert spec["securityContext"]["runAsNonRoot"] and spec["securityContext"]["runAsUser"] == 1000
    assert not any(spec.get(k) for k in ("hostNetwork", "hostPID", "hostIPC", "volumes"))
    assert "securityContext" not in spec["containers"][0]  # nothing privileged or added
    assert all(o["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "k8s-lab"
               for o in objects.values())


def test_the_script_time_is_bounded_inside_the_pod_too():
    argv = setup_pod.exec_argv("/bin/kubectl", "/tmp/kubeconfig", "sleep 99", 30)
    script_at = argv.index("sleep 99")
    assert argv[argv.index("--") + 1:script_at] == [
        "timeout", "-k", "5", "30", "bash", "-c", 'cd "$HOME" && exec bash -c "$0"']


def test_kubectl_execs_own_exit_note_does_not_hide_the_scripts_last_line():
    assert setup_pod.without_exec_note("no such file\ncommand terminated with exit code 3\n") == \
        "no such file\n"
    assert setup_pod.without_exec_note("the word: command terminated with exit code 3\n") == \
        "the word: command terminated with exit code 3\n"


@pytest.fixture(scope="module")
def full_cluster():
    with kind_clusters_or_skip(CLUSTER) as clusters:
        yield clusters[CLUSTER]


@pytest.fixture
def full_sandbox(full_cluster, owner, transactional_db, settings):
    sandbox = Sandbox.objects.create(owner=owner, tier="full", backend="kind", state=State.READY,
                                     host=settings.LAB_HOST, cluster=CLUSTER + "-sb",
                                     ready_at=timezone.now())
    sandbox.kubeconfig = str(lifecycle.install_kubeconfig(sandbox, full_cluster))
    sandbox.save()
    yield sandbox
    lifecycle.remove_files(sandbox)


@pytest.mark.cluster
def test_a_setup_script_runs_as_the_clusters_administrator(full_sandbox, full_cluster):
    code, out, err = inspect.run_setup_script(full_sandbox, """
        kubectl create namespace made-by-setup
        kubectl -n kube-system create configmap lab-note --from-literal=by=setup
        kubectl auth can-i '*' '*'
        id -u""", timeout=60)
    assert code == 0, err
    assert out.split()[-2:] == ["yes", "1000"]  # cluster-admin, as an unprivileged uid
    assert kubectl(full_cluster, "-n", "kube-system", "get", "configmap", "lab-note").returncode == 0
    # A second setup reuses the pod.
    code, out, _ = inspect.run_setup_script(full_sandbox, "kubectl get ns made-by-setup -o name", 60)
    assert (code, out.strip()) == (0, "namespace/made-by-setup")


@pytest.mark.cluster
def test_the_learner_cannot_reach_the_setup_pod_or_its_account(full_sandbox, full_cluster):
    assert inspect.run_setup_script(full_sandbox, "true", 60)[0] == 0  # the pod exists
    learner = ["exec", "-n", TOOLBOX_NAMESPACE, TOOLBOX_POD, "--", "kubectl"]
    for attempt in (["-n", "lab-system", "exec", "lab-setup", "--", "true"],
                    ["-n", "lab-system", "create", "token", "lab-setup"],
                    ["-n", "kube-system", "create", "configmap", "mine", "--from-literal=a=b"],
                    ["-n", "default", "run", "borrow", "--image=myrepo/my-app:1.0",
                     "--overrides", '{"spec": {"serviceAccountName": "lab-setup"}}']):
        result = kubectl(full_cluster, *learner, *attempt, check=False)
        assert result.returncode != 0, attempt
    # The borrowed name is not the setup pod's account: a Pod only gets its own namespace's.
    kubectl(full_cluster, "-n", "default", "delete", "pod", "borrow", "--ignore-not-found")


@pytest.mark.cluster
def test_a_setup_that_runs_too_long_is_ended_in_the_pod(full_sandbox, full_cluster):
    code, _, _ = inspect.run_setup_script(full_sandbox, "sleep 300", timeout=3)
    assert code is None
    left = kubectl(full_cluster, "-n", TOOLBOX_NAMESPACE, "exec", setup_pod.SETUP_POD, "--",
                   "ps", "-eo", "args").stdout
    assert "sleep 300" not in left
