"""The one place that makes cluster names, this lab instance's id and the labels that mark what
the lab created."""
from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Every cluster the lab creates has a name starting with this prefix; the reconciler only ever
# deletes clusters that carry it, never someone else's.
CLUSTER_PREFIX = "k8slab-"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "k8s-lab"
# Several labs may share one Docker host (two checkouts, a test run beside a running lab): the
# Docker objects of each one's kind clusters carry its instance id, so that each reconciles only
# its own. (The api tier's clusters live in the instance's data directory, so they are its own.)
INSTANCE_LABEL = "k8s-lab.instance"
_INSTANCE_ID = re.compile(r"[A-Za-z0-9_.-]{1,128}")


def cluster_name(sandbox_id: uuid.UUID) -> str:
    """A valid DNS label (<= 63 chars, lowercase), unique per sandbox, short enough for kind's
    container names and kwokctl's work dirs."""
    return f"{CLUSTER_PREFIX}{sandbox_id.hex[:12]}"


def is_lab_cluster(name: str) -> bool:
    return name.startswith(CLUSTER_PREFIX)


def managed_labels() -> dict[str, str]:
    return {MANAGED_BY_LABEL: MANAGED_BY_VALUE}


def instance_id() -> str:
    """This lab instance's id (settings.LAB_INSTANCE_ID, generated once into the data directory
    unless set), checked here because it becomes a Docker label and a filter argument."""
    value = str(getattr(settings, "LAB_INSTANCE_ID", "") or "")
    if not _INSTANCE_ID.fullmatch(value):
        raise ImproperlyConfigured(
            f"LAB_INSTANCE_ID={value!r} is not a valid instance id (1-128 letters, digits, "
            "'.', '_' or '-')")
    return value


def instance_labels() -> dict[str, str]:
    """The labels on the Docker objects of this instance's clusters."""
    return {**managed_labels(), INSTANCE_LABEL: instance_id()}
