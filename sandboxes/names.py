"""The one place that makes cluster names and the labels that mark what the lab created."""
from __future__ import annotations

import uuid

# Every cluster the lab creates has a name starting with this prefix; the reconciler only ever
# deletes clusters that carry it, never someone else's.
CLUSTER_PREFIX = "k8slab-"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "k8s-lab"


def cluster_name(sandbox_id: uuid.UUID) -> str:
    """A valid DNS label (<= 63 chars, lowercase), unique per sandbox, short enough for kind's
    container names and kwokctl's work dirs."""
    return f"{CLUSTER_PREFIX}{sandbox_id.hex[:12]}"


def is_lab_cluster(name: str) -> bool:
    return name.startswith(CLUSTER_PREFIX)


def managed_labels() -> dict[str, str]:
    return {MANAGED_BY_LABEL: MANAGED_BY_VALUE}
