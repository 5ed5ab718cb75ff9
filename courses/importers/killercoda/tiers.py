"""Which tier a scenario gets and which nodes it describes, from two tables: what the scenario's
code needs (NEEDS: real containers, traffic, a node's shell -> the first tier of the registry
with real containers, full; only API objects -> the first tier, api), and what Killercoda's
backend image was (IMAGES: its nodes, and what the lab cannot copy)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from courses.importers.killercoda.files import ScenarioFiles
from courses.importers.killercoda.text import listing
from courses.node_schema import CourseNode
from sandboxes import tiers as registry

CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
# Killercoda's one-node cluster has its control-plane taint removed, so pods run on it.
ONE_NODE = (CourseNode("controlplane", "control-plane"),)
TWO_NODES = (CourseNode("controlplane", "control-plane", taints=[CONTROL_PLANE_TAINT]),
             CourseNode("node01", "worker"))

# (backend.imageid pattern, nodes, warning or None); the first pattern that matches wins.
IMAGES = [
    (r"kubernetes-kubeadm-2nodes.*", TWO_NODES,
     "two nodes, controlplane (control plane, tainted NoSchedule) and node01 (worker): "
     "course.yaml's nodes says so"),
    (r"kubernetes-kubeadm-1node.*", ONE_NODE, None),  # -rapid, -ubuntu20.04: the same cluster
    (r"kubernetes-k3s.*", (),
     "the lab's clusters are kubeadm (kind) or kwok, not k3s, so k3s specifics (its config "
     "files, Traefik, local-path storage) are missing"),
    (r"ubuntu([-:].*)?", (),
     "the lab has no VM: the learner gets a shell and a Kubernetes cluster, not root on a "
     "machine, so steps that need root, apt or systemd will not work"),
    (r".*", (), "is not known; the course describes no nodes"),
]

# kubectl (or Killercoda's k), its options (some with a value: -n app), then the subcommand.
_KUBECTL = r"(?:\bkubectl|(?<![\w.$-])k)\s+(?:-\S+\s+(?:[^-\s]\S*\s+)?)*"
_END = r"(?![\w-])"
_URL = re.compile(r"\bhttps?://(?P<host>[^/\s:'\"]+)")
_PUBLIC_HOST = re.compile(r"^(?!localhost$)(?!\d+\.\d+\.\d+\.\d+$)[\w-]+(?:\.[\w-]+)*"
                          r"\.(?!svc$|local$|internal$)[a-z]{2,}$", re.IGNORECASE)
_HTTP_CLIENT = re.compile(r"(?<![\w.-])(?:curl|wget)\b[^\n|;&]*")
NODE_NOTE = ("they run on a node, and neither tier gives the learner a node's shell (the full "
             "tier's shell is a pod in the cluster)")


def _cluster_http(code: str) -> bool:
    """Whether a curl or wget in code talks to the cluster (a Service, a Pod, a node port)
    rather than downloading from the internet."""
    for m in _HTTP_CLIENT.finditer(code):
        hosts = [u.group("host") for u in _URL.finditer(m.group(0))]
        if not hosts or any(not _PUBLIC_HOST.match(host) for host in hosts):
            return True
    return False


_FETCH = re.compile(r"\bhelm\s+repo\s+add\b|\bgit\s+clone\s+\S*https?://|"
                    r"\b(?:kubectl|k)\s+(?:apply|create|replace)\b[^\n|;&]*\s-f\s*https?://")


def _downloads(code: str) -> bool:
    """Whether code fetches something from the internet (a chart, a manifest, a tool)."""
    if _FETCH.search(code):
        return True
    for m in _HTTP_CLIENT.finditer(code):
        hosts = [u.group("host") for u in _URL.finditer(m.group(0))]
        if hosts and all(_PUBLIC_HOST.match(host) for host in hosts):
            return True
    return False


@dataclass(frozen=True)
class Need:
    what: str  # in words, for the warning
    found: object  # a compiled pattern, or a function of the code
    containers: bool  # it needs real containers; False: no tier serves it better, see the note
    note: str = ""
    # Words that show the need even in prose: a challenge that only says "use etcdctl to take a
    # snapshot" needs a node as much as one that shows the command.
    in_prose: re.Pattern | None = None

    def in_code(self, code: str) -> bool:
        return bool(self.found.search(code)) if isinstance(self.found, re.Pattern) \
            else self.found(code)


NEEDS = [
    Need("kubectl exec", re.compile(_KUBECTL + r"exec" + _END), True),
    Need("kubectl logs", re.compile(_KUBECTL + r"logs" + _END), True),
    Need("kubectl attach, cp, port-forward or debug",
         re.compile(_KUBECTL + r"(?:attach|cp|port-forward|debug)" + _END), True),
    Need("an interactive pod (kubectl run -it)",
         re.compile(_KUBECTL + r"run\s(?:[^\n|;&]*\s)?(?:-it|-ti|-i|--stdin)" + _END), True),
    Need("crictl", re.compile(r"(?<![\w./-])crictl\b"), True, NODE_NOTE),
    Need("docker, podman, nerdctl or ctr",
         re.compile(r"(?<![\w./-])(?:docker|podman|nerdctl|ctr)\s+[a-z-]+"), True, NODE_NOTE),
    Need("HTTP requests to a Service, Pod or node port", _cluster_http, True),
    # The text's own warning says that the lab's app view does not exist yet.
    Need("the app in the browser ({{TRAFFIC_HOST1_<port>}})", re.compile(r"\{\{\s*TRAFFIC_"),
         True),
    Need("a node's shell (ssh, systemctl, journalctl, kubeadm, etcdctl, /etc/kubernetes)",
         re.compile(r"(?<![\w./-])(?:ssh\s+\w|systemctl\s+\w|journalctl\b|kubeadm\s+\w|"
                    r"etcdctl\b)|/etc/kubernetes/|/var/lib/(?:kubelet|etcd)\b|"
                    r"/var/log/(?:containers|pods)\b"),
         True, NODE_NOTE,
         in_prose=re.compile(r"\b(?:etcdctl|crictl|systemctl|journalctl)\b|/etc/kubernetes/|"
                             r"\bstatic pod manifests?\b", re.IGNORECASE)),
    Need("kubectl top (metrics of real kubelets)", re.compile(_KUBECTL + r"top" + _END), True),
    Need("root and a package manager (apt, yum, apk)",
         re.compile(r"(?<![\w./-])(?:apt|apt-get|yum|dnf|apk)\s+(?:install|add|update)\b"),
         False, "no tier gives the learner root or a package manager"),
    Need("downloads from the internet (helm repo add, curl https://..., kubectl apply -f "
         "https://...)", _downloads, False,
         "the lab's clusters are built to work offline, so check that a sandbox can reach "
         "them, or ship the files as the scenario's assets"),
]


def read_backend(files: ScenarioFiles, backend) -> list[CourseNode]:
    """backend.imageid's nodes (none for an image the table gives none), with its warning."""
    if backend is None:
        return []
    if not isinstance(backend, dict):
        files.warn("index.json 'backend' is not an object; ignored")
        return []
    for key in backend:
        if key != "imageid":
            files.warn(f"index.json field 'backend.{key}' is not imported")
    imageid = backend.get("imageid")
    if imageid is None:
        return []
    name = str(imageid)
    for pattern, nodes, warning in IMAGES:
        if re.fullmatch(pattern, name):
            if warning:
                joiner = " " if warning.startswith("is ") else ": "
                files.warn(f"backend.imageid '{name}'{joiner}{warning}")
            return [CourseNode(n.name, n.role, dict(n.labels), [dict(t) for t in n.taints])
                    for n in nodes]
    return []


def choose_tier(files: ScenarioFiles, code: list[tuple[str, str]], override: str | None = None,
                cluster_image: bool = False, prose: list[tuple[str, str]] = ()) -> str:
    """The tier from NEEDS, given (place, code) pairs (every script, and the code of every page)
    and (place, text) pairs of the pages' whole text; override, the author's choice, wins (with
    a warning if the scenario needs more). cluster_image: Killercoda gave the scenario a real
    cluster, which the first tier does not copy."""
    found: dict[Need, list[str]] = {}  # each need, and where it shows
    hits = [(need, place) for place, text in code for need in NEEDS if need.in_code(text)]
    hits += [(need, place) for place, text in prose for need in NEEDS
             if need.in_prose and need.in_prose.search(text)]
    for need, place in hits:
        if place not in found.setdefault(need, []):
            found[need].append(place)
    full = [need for need in found if need.containers]
    uses = listing([f"{need.what} ({listing(found[need], 3)})" for need in full], 5)
    for need in found:
        if need.note:
            files.warn(f"the scenario uses {need.what} ({listing(found[need], 3)}): {need.note}")
    with_containers = next(t for t in registry.REGISTRY.values() if t.real_containers)
    if override:
        if full and not registry.get(override).real_containers:
            files.warn(f"tier {override} (--tier): the scenario uses {uses}, which need real "
                       f"containers: those steps will not work on an {registry.label(override)}")
        return override
    if full:
        files.warn(f"tier {with_containers.name}: the scenario uses {uses}")
        return with_containers.name
    if cluster_image:
        first = registry.DEFAULT
        files.warn(f"tier {first}: the scenario only works with API objects (no exec, logs, "
                   f"container runtime or traffic), which an {registry.label(first)} serves in "
                   f"seconds; import it with --tier {with_containers.name} for real containers")
    return registry.DEFAULT
