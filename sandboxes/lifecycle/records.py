"""What a sandbox leaves behind as it lives: its event log, its directory on this host, the
kubeconfig the lab keeps there, and the removal of those files."""
from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings

from sandboxes.jail.layout import JailLayout
from sandboxes.models import Sandbox, SandboxEvent
from sandboxes.tools import run, tool_path


class SandboxRefused(Exception):
    """The learner cannot have a sandbox now; the message says why, in words for them."""


def sandbox_dir(sandbox: Sandbox) -> Path:
    return Path(settings.SANDBOX_DIR) / str(sandbox.id)


def record(sandbox: Sandbox, kind: str, detail: str = "") -> None:
    SandboxEvent.objects.create(sandbox=sandbox, kind=kind, detail=detail[:2000])


def install_kubeconfig(sandbox: Sandbox, source: Path) -> Path:
    """Copy the backend's kubeconfig into the sandbox's own directory, readable only by the lab
    (0600), with its certificates embedded: it is handed to the owner's terminal and checks,
    never served to a browser."""
    directory = sandbox_dir(sandbox)
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o711)  # the jail's uid must reach its home below; nothing is listable
    flat = run([tool_path("kubectl"), "config", "view", "--raw", "--flatten", "--kubeconfig",
                str(source)], timeout=20).stdout
    target = directory / "kubeconfig"
    tmp = directory / ".kubeconfig.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(flat)
    os.replace(tmp, target)
    return target


def remove_files(sandbox: Sandbox) -> None:
    JailLayout(sandbox_dir(sandbox), sandbox.id).remove()  # its processes and home mount too
