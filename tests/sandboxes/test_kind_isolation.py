"""Two learners' kind clusters cannot reach each other: each node sits on a Docker network of
its own, so a Pod of one learner cannot open the other's API server (or NodePorts) by the node's
address. Real Docker and kind; skipped where the full tier is not built."""
import subprocess

import pytest

from sandboxes.backends import get_backend
from sandboxes.backends.kind import TOOLBOX_NAMESPACE, TOOLBOX_POD
from tests.sandboxes.helpers import kind_clusters_or_skip, kubectl

pytestmark = [pytest.mark.cluster]
NAMES = ("k8slab-test-iso-a", "k8slab-test-iso-b")


@pytest.fixture(scope="module")
def two_clusters():
    with kind_clusters_or_skip(*NAMES) as clusters:
        yield clusters


def _docker(*args) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60,
                          check=True).stdout.strip()


def _node_ip(cluster: str) -> str:
    return _docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                   f"{cluster}-control-plane")


def _curl_from_toolbox(kubeconfig, url: str) -> subprocess.CompletedProcess:
    return kubectl(kubeconfig, "exec", "-n", TOOLBOX_NAMESPACE, TOOLBOX_POD, "--", "curl", "-sk",
                   "--max-time", "4", "-o", "/dev/null", "-w", "%{http_code}", url, check=False)


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
    before = _egress_rule_packets(a)
    other = _curl_from_toolbox(two_clusters[a], f"https://{_node_ip(b)}:6443/healthz")
    assert other.returncode != 0 and other.stdout in ("", "000"), other
    assert _egress_rule_packets(a) > before


def _egress_rule_packets(cluster: str) -> int:
    listing = subprocess.run(["iptables", "-L", "DOCKER-USER", "-v", "-n", "-x"], capture_output=True,
                             text=True, timeout=30, check=True).stdout
    lines = [line for line in listing.splitlines() if f"k8s-lab {cluster}: no egress" in line]
    assert len(lines) == 1, listing
    return int(lines[0].split()[0])


def test_deleting_a_cluster_removes_its_network(two_clusters):
    backend = get_backend("full")
    backend.delete(NAMES[1])
    assert NAMES[1] not in backend.list_clusters()
    assert _docker("network", "ls", "-q", "--filter", f"name=^{NAMES[1]}$") == ""
    rules = subprocess.run(["iptables", "-S", "DOCKER-USER"], capture_output=True, text=True,
                           timeout=30, check=True).stdout
    assert f"k8s-lab {NAMES[1]}" not in rules and f"k8s-lab {NAMES[0]}" in rules
    backend.delete(NAMES[1])  # a cluster that is gone is success
