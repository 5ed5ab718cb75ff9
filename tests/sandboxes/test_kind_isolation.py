"""Learners' kind clusters are cut off from each other, from the host and from other labs: each
node sits on a Docker network of its own, so a Pod of one learner cannot open the other's API
server (or NodePorts) by the node's address; nothing from a cluster's network may open a
connection to the host itself (a host service listening on 0.0.0.0 included); and a lab instance
lists, reconciles and deletes only the clusters it made, not those of another lab sharing the
Docker host. Real Docker and kind; skipped where the full tier is not built."""
import json
import subprocess
import time
import urllib.request

import pytest
from django.conf import settings

from sandboxes import reconciler
from sandboxes.backends import BackendError, get_backend
from sandboxes.backends.kind import TOOLBOX_NAMESPACE, TOOLBOX_POD
from sandboxes.models import Sandbox, State
from tests.sandboxes.helpers import as_lab_instance, host_service, kind_clusters_or_skip, kubectl

pytestmark = [pytest.mark.cluster]
NAMES = ("k8slab-test-iso-a", "k8slab-test-iso-b")
# The second cluster is another lab's: same Docker host, same name prefix, its own instance id.
OTHER_LAB = "another-lab-on-this-docker-host"


@pytest.fixture(scope="module")
def two_clusters():
    with kind_clusters_or_skip(*NAMES, instances={NAMES[1]: OTHER_LAB}) as clusters:
        yield clusters


def _docker(*args) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60,
                          check=True).stdout.strip()


def _node_ip(cluster: str) -> str:
    return _docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                   f"{cluster}-control-plane")


def _gateway(cluster: str) -> str:
    """The host's own address on the cluster's network."""
    return _docker("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Gateway}}{{end}}", cluster)


def _curl_from_toolbox(kubeconfig, url: str) -> subprocess.CompletedProcess:
    return kubectl(kubeconfig, "exec", "-n", TOOLBOX_NAMESPACE, TOOLBOX_POD, "--", "curl", "-sk",
                   "--max-time", "4", "-o", "/dev/null", "-w", "%{http_code}", url, check=False)


def _rule_packets(chain: str, comment: str) -> int:
    listing = subprocess.run(["iptables", "-L", chain, "-v", "-n", "-x"], capture_output=True,
                             text=True, timeout=30, check=True).stdout
    lines = [line for line in listing.splitlines() if comment in line]
    assert len(lines) == 1, listing
    return int(lines[0].split()[0])


def test_each_node_has_its_own_network_and_no_pod_reaches_another_learners_node(two_clusters):
    a, b = NAMES
    for name in NAMES:
        networks = _docker("inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
                           f"{name}-control-plane").split()
        assert networks == [name]
    # A pod reaches its own node's API server by the node's address (any HTTP answer will do)...
    own = _curl_from_toolbox(two_clusters[b], f"https://{_node_ip(b)}:6443/healthz")
    assert own.returncode == 0 and own.stdout in ("200", "401", "403"), own
    # ...but not the other learner's: the host forwards nothing off a cluster's own network
    # (so no Pod reaches the Internet either), and the packets met the lab's rule.
    before = _rule_packets("DOCKER-USER", f"k8s-lab {a}: no egress")
    other = _curl_from_toolbox(two_clusters[a], f"https://{_node_ip(b)}:6443/healthz")
    assert other.returncode != 0 and other.stdout in ("", "000"), other
    assert _rule_packets("DOCKER-USER", f"k8s-lab {a}: no egress") > before


def test_no_pod_opens_a_connection_to_the_host(two_clusters):
    a, b = NAMES
    with host_service("k8s-lab-host-marker") as port:
        gateway = _gateway(a)
        # The service answers on the host's address on the cluster's network (from the host)...
        with urllib.request.urlopen(f"http://{gateway}:{port}/", timeout=5) as answer:
            assert answer.read() == b"k8s-lab-host-marker"
        before = _rule_packets("INPUT", f"k8s-lab {a}: no host access")
        # ...but a Pod gets nowhere, by that address or by any other of the host's (the other
        # cluster's gateway), refused at once rather than after a timeout.
        for address in (gateway, _gateway(b)):
            started = time.monotonic()
            result = kubectl(two_clusters[a], "exec", "-n", TOOLBOX_NAMESPACE, TOOLBOX_POD, "--",
                             "curl", "-s", "--max-time", "4", f"http://{address}:{port}/", check=False)
            assert result.returncode != 0 and "k8s-lab-host-marker" not in result.stdout, result
            assert time.monotonic() - started < 30
        assert _rule_packets("INPUT", f"k8s-lab {a}: no host access") > before
    # What the cluster needs still works: Docker's embedded DNS (through CoreDNS, which forwards
    # to it by the gateway address, rewritten inside the node) and the lab's API connection.
    kubectl(two_clusters[a], "rollout", "status", "-n", "kube-system", "deployment/coredns",
            "--timeout=120s")
    lookup = kubectl(two_clusters[a], "exec", "-n", TOOLBOX_NAMESPACE, TOOLBOX_POD, "--",
                     "getent", "hosts", f"{a}-control-plane.", check=False)
    assert lookup.returncode == 0 and _node_ip(a) in lookup.stdout, lookup
    assert "Ready" in kubectl(two_clusters[a], "get", "nodes").stdout


@pytest.mark.django_db
def test_each_lab_instance_lists_and_reconciles_only_its_own_clusters(two_clusters):
    mine, theirs = NAMES
    backend = get_backend("full")
    assert mine in backend.list_clusters() and theirs not in backend.list_clusters()
    with as_lab_instance(OTHER_LAB):
        assert theirs in backend.list_clusters() and mine not in backend.list_clusters()
    labels = json.loads(_docker("network", "inspect", "-f", "{{json .Labels}}", mine))
    assert labels["k8s-lab.instance"] == settings.LAB_INSTANCE_ID
    assert labels["app.kubernetes.io/managed-by"] == "k8s-lab"

    # This instance's database knows its own cluster; the other lab's is nobody's here, and the
    # reconciler, which deletes clusters nobody owns, leaves it alone.
    Sandbox.objects.create(tier="full", backend="kind", host=settings.LAB_HOST, cluster=mine,
                           state=State.READY, kubeconfig=str(two_clusters[mine]))
    result = reconciler.reconcile()
    assert theirs not in result["orphans_deleted"] and mine not in result["orphans_deleted"]
    # Nor does anything else of this instance take it: no delete, no create over it.
    with pytest.raises(BackendError, match="another lab instance"):
        backend.delete(theirs)
    with pytest.raises(BackendError, match="did not make") as refused:
        backend.create(theirs, lambda *a: None)
    assert refused.value.permanent
    assert "Ready" in kubectl(two_clusters[theirs], "get", "nodes").stdout
    with as_lab_instance(OTHER_LAB):
        assert theirs in backend.list_clusters()


def test_deleting_a_cluster_removes_its_network_and_its_rules(two_clusters):
    a, b = NAMES
    backend = get_backend("full")
    with as_lab_instance(OTHER_LAB):
        backend.delete(b)
        assert b not in backend.list_clusters()
    assert _docker("network", "ls", "-q", "--filter", f"name=^{b}$") == ""
    for chain in ("DOCKER-USER", "INPUT"):
        rules = subprocess.run(["iptables", "-S", chain], capture_output=True, text=True,
                               timeout=30, check=True).stdout
        assert f"k8s-lab {b}:" not in rules and f"k8s-lab {a}:" in rules, (chain, rules)
    with as_lab_instance(OTHER_LAB):
        backend.delete(b)  # a cluster that is gone is success
