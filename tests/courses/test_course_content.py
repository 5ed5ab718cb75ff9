"""The bundled course: its lessons, their order, and every fact of the seed text."""
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from courses.catalog import get_course

SEED = Path(settings.BASE_DIR).parent / "shared" / "seed" / "kubernetes-architecture.txt"
SLUGS = ["what-is-kubernetes", "control-plane", "worker-nodes", "object-model", "kubectl",
         "namespaces", "key-takeaways"]


@pytest.fixture(scope="module")
def course():
    found = get_course("kubernetes-architecture")
    assert found is not None
    return found


@pytest.fixture(scope="module")
def all_text(course):
    parts = [course.title, course.summary, course.description, course.contact]
    for lesson in course.lessons:
        parts += [lesson.title, lesson.summary, *lesson.objectives, lesson.body]
    return "\n".join(parts)


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("—", "-").replace("–", "-")).lower()


def test_the_lessons_are_in_the_promised_order(course):
    assert [lesson.slug for lesson in course.lessons] == SLUGS
    assert course.problems == []


# Each seed fact, as words that must appear (case-insensitive) somewhere in the lessons.
SEED_FACTS = [
    "de facto standard for container orchestration", "deployment, scaling, and management",
    "open-source", "google", "borg", "cncf", "2014",
    "scheduling", "self-healing", "scaling", "service discovery", "rolling updates",
    "secret management", "zero downtime", "find each other by name",
    "brain of kubernetes", "master node", "global decisions",
    "kube-apiserver", "front-end for the kubernetes control plane", "validates and processes rest requests",
    "etcd", "key-value store", "single source of truth", "back",
    "kube-scheduler", "affinity", "kube-controller-manager", "node controller",
    "replication controller", "endpoints controller", "cloud-controller-manager", "aws", "gcp", "azure",
    "load balancers", "storage volumes",
    "kubelet", "podspecs", "kube-proxy", "network rules", "container runtime", "containerd",
    "cri-o", "docker", "container runtime interface", "vms or physical servers",
    "desired state", "actual state", "reconciliation loop", "apiVersion", "kind", "metadata", "spec",
    "status", "myrepo/my-app:1.0", "containerport: 3000", "64mi", "250m", "128mi", "500m",
    "kubectl cluster-info", "kubectl get nodes", "kubectl describe node worker-1",
    "kubectl apply -f deployment.yaml", "kubectl get pods", "kubectl get pods -n production",
    "kubectl get all -n production", "kubectl describe pod my-app-abc123", "kubectl logs my-app-abc123",
    "kubectl logs -f my-app-abc123", "kubectl exec -it my-app-abc123 -- bash",
    "kubectl scale deployment my-app --replicas=5", "kubectl set image deployment/my-app my-app=myrepo/my-app:2.0",
    "kubectl rollout status deployment/my-app", "kubectl rollout undo deployment/my-app",
    "kubectl create namespace staging", "kubectl config set-context --current --namespace=staging",
    "multi-tenancy", "environment separation", "resource quotas", "rbac",
    "kube-system", "kube-public", "kube-node-lease", "node heartbeats", "publicly readable",
    "support@nvaitraining.com",
]


@pytest.mark.parametrize("fact", SEED_FACTS)
def test_every_seed_fact_reaches_the_lessons(all_text, fact):
    assert _normal(fact) in _normal(all_text), f"the lessons never say: {fact}"


def test_every_kubectl_line_of_the_seed_is_taught(all_text):
    commands = [line.split("#")[0].strip() for line in SEED.read_text().splitlines()
                if line.strip().startswith("kubectl ") and not line.startswith("kubectl is ")]
    assert len(commands) == 17
    for command in commands:
        # The seed glued two sections together on one line; the command is the part before it.
        command = re.sub(r"(--namespace=staging)Namespaces.*", r"\1", command)
        assert _normal(command) in _normal(all_text), command


def _yaml_blocks(course):
    for lesson in course.lessons:
        for block in lesson.code_blocks():
            if block.lang in ("yaml", "yml"):
                yield lesson, block


def test_every_yaml_block_parses(course):
    blocks = list(_yaml_blocks(course))
    assert blocks, "the course has YAML blocks"
    for lesson, block in blocks:
        list(yaml.safe_load_all(block.text))  # raises on a broken block


def test_the_corrected_deployment_manifest_is_in_the_object_model_lesson(course):
    manifests = [doc for lesson, block in _yaml_blocks(course) if lesson.slug == "object-model"
                 for doc in yaml.safe_load_all(block.text) if isinstance(doc, dict)
                 and doc.get("kind") == "Deployment"]
    assert manifests
    deployment = manifests[0]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert deployment["metadata"]["namespace"] == "production"
    assert deployment["spec"]["replicas"] == 3
    assert container["image"] == "myrepo/my-app:1.0"
    assert container["resources"] == {"requests": {"memory": "64Mi", "cpu": "250m"},
                                      "limits": {"memory": "128Mi", "cpu": "500m"}}


@pytest.fixture(scope="module")
def api_server():
    """A real API server (a kwok cluster from the built toolchain): kubectl's client-side dry run
    still asks the server which resource each kind is."""
    from sandboxes.backends import get_backend

    backend = get_backend("api")
    kubeconfig = backend.create("k8slab-test-dryrun", lambda *a: None)
    yield kubeconfig
    backend.delete("k8slab-test-dryrun")


@pytest.mark.cluster
def test_every_manifest_block_passes_kubectl_dry_run(course, api_server):
    kubectl = str(Path(settings.TOOLCHAIN_BIN) / "kubectl")
    count = 0
    for lesson, block in _yaml_blocks(course):
        docs = [d for d in yaml.safe_load_all(block.text) if isinstance(d, dict)]
        if not any("apiVersion" in d and "kind" in d for d in docs):
            continue
        count += 1
        # A server-side dry run checks the namespace exists, as a learner's real apply would.
        for namespace in {d.get("metadata", {}).get("namespace") for d in docs} - {None}:
            subprocess.run([kubectl, "--kubeconfig", str(api_server), "create", "namespace",
                            namespace], capture_output=True, timeout=60)
        for mode in ("client", "server"):
            result = subprocess.run([kubectl, "--kubeconfig", str(api_server), "apply",
                                     f"--dry-run={mode}", "-o", "name", "-f", "-"],
                                    input=block.text, capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, f"{lesson.path.name}:{block.line} ({mode}): {result.stderr}"
            assert result.stdout.strip(), f"{lesson.path.name}:{block.line}: kubectl applied nothing"
    assert count >= 1
