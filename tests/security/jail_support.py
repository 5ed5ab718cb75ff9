"""What the jail tests share: a second learner's sandbox on the same cluster, a root-owned victim
directory for symlinks to point at, the processes a sandbox's uid runs on the host, and the
terminal's output without its escape sequences. (Test modules import the fixtures by name.)"""
from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync

from sandboxes import lifecycle
from sandboxes.jail.layout import JailLayout
from sandboxes.terminal import registry
from tests.conftest import make_ready_sandbox

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def plain(output: str) -> str:
    return ANSI.sub("", output).replace("\r", "")


def layout_of(sandbox) -> JailLayout:
    return JailLayout(lifecycle.sandbox_dir(sandbox), sandbox.id)


def live_processes_of(uid: int) -> list[str]:
    """The host's processes (not zombies: those have ended, their parent has yet to reap them)
    whose real uid is uid, as "pid command" lines."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        real_uid = int(re.search(r"^Uid:\s+(\d+)", text, re.M).group(1))
        state = re.search(r"^State:\s+(\w)", text, re.M).group(1)
        if real_uid == uid and state != "Z":
            name = re.search(r"^Name:\s+(.*)$", text, re.M).group(1)
            found.append(f"{status.parent.name} {name}")
    return found


async def end_terminal(sandbox) -> None:
    """End the sandbox's terminal session (a closed socket alone leaves the shell running)."""
    await registry.close_for(sandbox.id)


@pytest.fixture
def other_sandbox(api_cluster, other, transactional_db):
    """A second learner's ready sandbox, on the same cluster as ready_sandbox."""
    sandbox = make_ready_sandbox(api_cluster, other)
    yield sandbox
    async_to_sync(end_terminal)(sandbox)
    lifecycle.remove_files(sandbox)


@pytest.fixture
def victim_dir():
    """A root-owned directory outside every home, with one root-owned file in it: what a
    learner's symlink points at. Nothing in it may change."""
    path = Path(f"/tmp/k8slab-victim-{uuid.uuid4().hex[:12]}")
    path.mkdir(mode=0o755)
    (path / "keep").write_text("the lab's\n")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def victim_state(path: Path) -> list[tuple[str, int, int]]:
    return sorted((p.name, p.stat().st_uid, p.stat().st_size) for p in path.iterdir())
