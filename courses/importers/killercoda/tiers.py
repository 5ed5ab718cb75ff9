"""Which tier a scenario gets, from a table of Killercoda backend images."""
from __future__ import annotations

import re

from courses.importers.killercoda.files import ScenarioFiles

# (backend.imageid pattern, tier, warning or None); the first pattern that matches wins.
IMAGES = [
    (r"kubernetes-kubeadm-1node", "full", None),
    (r"kubernetes-.*2nodes.*", "full",
     "the lab's full tier is a single-node cluster, so steps that use the second node (node01) "
     "will not work; the course uses tier full"),
    (r"kubernetes-kubeadm-1node.*", "full", None),  # -rapid, -ubuntu20.04: the same cluster
    (r"kubernetes-k3s.*", "full",
     "the lab's full tier is a kind (kubeadm) cluster, not k3s, so k3s specifics (its config "
     "files, Traefik, local-path storage) are missing; the course uses tier full"),
    (r"ubuntu([-:].*)?", "api",
     "the lab has no full VM; the learner gets a shell and a Kubernetes API cluster (tier api), "
     "not a root VM, so steps that need root, apt or systemd will not work"),
    (r"kubernetes.*", "full", "is not known; the course uses tier full (a single-node cluster)"),
    (r".*", "api", "is not known; the course uses tier api (a shell and a Kubernetes API "
                   "cluster)"),
]


def backend_tier(files: ScenarioFiles, backend) -> str:
    if backend is None:
        return "api"
    if not isinstance(backend, dict):
        files.warn("index.json 'backend' is not an object; the course uses tier api")
        return "api"
    for key in backend:
        if key != "imageid":
            files.warn(f"index.json field 'backend.{key}' is not imported")
    imageid = backend.get("imageid")
    if imageid is None:
        return "api"
    name = str(imageid)
    for pattern, tier, warning in IMAGES:
        if re.fullmatch(pattern, name):
            if warning:
                joiner = " " if warning.startswith("is ") else ": "
                files.warn(f"backend.imageid '{name}'{joiner}{warning}")
            return tier
    return "api"
