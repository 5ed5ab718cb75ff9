"""The images the full tier runs (pinned in toolchain/versions.env) and how to build what is missing."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from django.conf import settings

FIX_DOCKER = "sudo toolchain/docker/ensure-docker.sh (or `make full-tier`)"
FIX_IMAGES = "sudo toolchain/full-tier.sh (or `make full-tier`)"


@lru_cache(maxsize=1)
def pinned_versions() -> dict[str, str]:
    """The pins in toolchain/versions.env (KEY=value lines), the same file the image build reads,
    so the backend asks for exactly the images that build made."""
    path = Path(settings.BASE_DIR) / "toolchain" / "versions.env"
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line.strip())
        if match:
            pins[match.group(1)] = match.group(2).strip().strip('"').strip("'")
    return pins


def node_image() -> str:
    return getattr(settings, "KIND_NODE_IMAGE", "") or \
        f"k8s-lab/kind-node:{pinned_versions()['KUBERNETES_VERSION']}"


def toolbox_image() -> str:
    return getattr(settings, "KIND_TOOLBOX_IMAGE", "") or \
        f"k8s-lab/toolbox:{pinned_versions()['TOOLBOX_VERSION']}"
