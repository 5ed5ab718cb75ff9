"""Issue item 6: each learner's jail has its own limits, and hitting one is that learner's
ordinary error while the lab and everyone else carry on. Bounded attacks through the real
terminal: a fork loop capped at 2000, a memory hog of 1 GiB, a /tmp fill and a home fill of a
bounded size; after each, the terminal's next command, a check on the same sandbox and another
learner's shell all work. Skipped, saying why, where this host cannot limit (not root, no
cgroup v1, no loop device)."""
import asyncio
import re
import time

import pytest
from channels.db import database_sync_to_async

from sandboxes import inspect
from sandboxes.jail import homefs, limits
from sandboxes.models import CommandRecord
from sandboxes.terminal import registry
from tests.security.jail_support import layout_of, other_sandbox, plain  # noqa: F401 (fixture)
from tests.terminal.wsclient import Term

pytestmark = [pytest.mark.cluster, pytest.mark.asyncio]
MiB = 1024 * 1024

needs_cgroups = pytest.mark.skipif(limits.unavailable_reason() is not None,
                                   reason=f"no cgroup limits here: {limits.unavailable_reason()}")
needs_home_fs = pytest.mark.skipif(homefs.unavailable_reason() is not None,
                                   reason=f"no bounded homes here: {homefs.unavailable_reason()}")

# Forks until the kernel says no (at most 2000 times), holds its children until ~/release
# appears (at most 30 s), then ends them.
FORK_LOOP = """python3 -c '
import os, signal, time
kids = []
try:
    for _ in range(2000):
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        kids.append(pid)
    print("no limit after", len(kids), "forks")
except OSError as error:
    print("FORK-" + "LIMIT at fork", len(kids) + 1, "of 2000:", error.strerror)
deadline = time.time() + 30
while not os.path.exists(os.path.expanduser("~/release")) and time.time() < deadline:
    time.sleep(0.1)
for pid in kids:
    os.kill(pid, signal.SIGKILL)
'"""


async def still_usable(term: Term, sandbox, other_term: Term, other_sandbox) -> None:
    """The terminal's next command, a check on the same sandbox and the other learner's shell
    all work."""
    out = plain(await term.run("echo next-$((40+2))", "next"))
    assert "next-42" in out
    code, out, _ = await asyncio.to_thread(inspect.run_script, sandbox,
                                           "kubectl get namespace default -o name", 30)
    assert (code, out.strip()) == (0, "namespace/default")
    out = plain(await other_term.run("kubectl get namespace default -o name", "theirs"))
    assert "namespace/default" in out


async def open_both(owner, ready_sandbox, other, other_sandbox) -> tuple[Term, Term]:
    term = await Term.open(owner, ready_sandbox.id)
    await term.control_message("hello")
    other_term = await Term.open(other, other_sandbox.id)
    await other_term.control_message("hello")
    return term, other_term


@needs_cgroups
async def test_the_shell_and_every_script_run_in_the_sandboxs_cgroups(owner, ready_sandbox, settings):
    term = await Term.open(owner, ready_sandbox.id)
    await term.control_message("hello")
    out = plain(await term.run("echo nproc=$(ulimit -u)", "nproc"))
    assert f"nproc={settings.JAIL_PIDS_MAX}\n" in out  # far below the kernel's pid_max
    pid = registry.get(ready_sandbox.id).pid
    groups = open(f"/proc/{pid}/cgroup").read()
    of = {c: next(line.split(":", 2)[2] for line in groups.splitlines()
                  if c in line.split(":")[1].split(",")) for c in ("pids", "memory", "cpu")}
    # The sandbox's groups; in pids, a child of its own (the shell's process tree).
    assert of["pids"].startswith(f"/k8s-lab/{ready_sandbox.id}/shell-"), groups
    assert of["memory"] == of["cpu"] == f"/k8s-lab/{ready_sandbox.id}", groups
    base = limits.base("pids") / str(ready_sandbox.id)
    assert (base / "pids.max").read_text().strip() == str(settings.JAIL_PIDS_MAX)
    memory = limits.base("memory") / str(ready_sandbox.id) / "memory.limit_in_bytes"
    assert int(memory.read_text()) == settings.JAIL_MEMORY_BYTES
    # A script's tree has a pids group of its own beside the shell's, removed when it ends.
    code, out, _ = await asyncio.to_thread(inspect.run_script, ready_sandbox, "sleep 0.1; echo ok", 30)
    assert (code, out) == (0, "ok\n")
    assert sorted(p.name.split("-")[0] for p in base.iterdir() if p.is_dir()) == ["shell"]
    await term.close()


@needs_cgroups
async def test_a_fork_bomb_stops_at_the_limit_and_hurts_nobody(owner, ready_sandbox, other,
                                                               other_sandbox, settings):
    settings.JAIL_PIDS_MAX = 200
    term, other_term = await open_both(owner, ready_sandbox, other, other_sandbox)
    await term.type(FORK_LOOP + "; echo bomb-$((6*7))\r")
    await term.until(b"FORK-LIMIT", timeout=60)
    await term.until(b"unavailable", timeout=10)
    out = plain(term.output.decode(errors="replace"))
    assert "Resource temporarily unavailable" in out
    assert int(re.search(r"FORK-LIMIT at fork (\d+) of 2000", out).group(1)) <= 200
    # At its limit, this sandbox's check says so; the other learner works as ever.
    with pytest.raises(inspect.ClusterUnreachable, match="as many processes"):
        await asyncio.to_thread(inspect.run_script, ready_sandbox, "true", 30)
    assert "other-42" in plain(await other_term.run("echo other-$((40+2))", "o"))
    (layout_of(ready_sandbox).home / "release").write_text("")
    await term.until(b"bomb-42", timeout=60)
    (layout_of(ready_sandbox).home / "release").unlink()
    await still_usable(term, ready_sandbox, other_term, other_sandbox)
    await term.close()
    await other_term.close()


@needs_cgroups
async def test_a_memory_hog_is_killed_alone(owner, ready_sandbox, other, other_sandbox, settings):
    settings.JAIL_MEMORY_BYTES = 128 * MiB
    term, other_term = await open_both(owner, ready_sandbox, other, other_sandbox)
    # tail keeps the whole of a line with no newline in memory: 1 GiB of it, at most.
    out = plain(await term.run("head -c 1G /dev/zero | tail > /dev/null; echo hog-status=$?",
                               "hog", timeout=120))
    assert "Killed" in out and "hog-status=137" in out
    await still_usable(term, ready_sandbox, other_term, other_sandbox)
    await term.close()
    await other_term.close()


@needs_cgroups
async def test_a_full_tmp_is_the_learners_ordinary_error(owner, ready_sandbox, other, other_sandbox,
                                                         settings):
    settings.JAIL_TMP_BYTES = 16 * MiB
    term, other_term = await open_both(owner, ready_sandbox, other, other_sandbox)
    out = plain(await term.run("dd if=/dev/zero of=/tmp/fill bs=1M count=64 2>&1 | head -1; "
                               "rm /tmp/fill", "tmp"))
    assert "No space left on device" in out
    await still_usable(term, ready_sandbox, other_term, other_sandbox)
    await term.close()
    await other_term.close()


@needs_home_fs
async def test_a_full_home_is_the_learners_ordinary_error(owner, ready_sandbox, other,
                                                          other_sandbox, settings):
    settings.JAIL_HOME_BYTES = 64 * MiB  # read when this sandbox's home is first made
    term, other_term = await open_both(owner, ready_sandbox, other, other_sandbox)
    out = plain(await term.run("echo size=$(df --output=size -B1M ~ | tail -1)MiB; "
                               "dd if=/dev/zero of=~/fill bs=1M count=128 2>&1 | head -1", "fill",
                               timeout=60))
    assert "No space left on device" in out
    assert int(re.search(r"size=\s*(\d+)MiB", out).group(1)) <= 64, out
    # With the home full: checks run, the other learner works, and the lab still records the
    # learner's commands in its database (its own disk is not theirs to fill).
    await still_usable(term, ready_sandbox, other_term, other_sandbox)
    await term.run("echo recorded-after-the-fill", "rec")
    deadline = time.monotonic() + 10
    count = database_sync_to_async(
        CommandRecord.objects.filter(sandbox=ready_sandbox, line__contains="recorded-after").count)
    while await count() == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert await count() == 1
    await term.run("rm ~/fill", "rm")
    await term.close()
    await other_term.close()


@needs_home_fs
async def test_an_earlier_home_moves_into_its_own_filesystem_intact(settings):
    """A sandbox from before homes were bounded keeps its files (and its symlinks as symlinks)."""
    import os
    import uuid
    from pathlib import Path

    from sandboxes.jail.layout import JailLayout

    settings.JAIL_HOME_BYTES = 32 * MiB
    sandbox_id = f"migrate-{uuid.uuid4().hex[:8]}"
    layout = JailLayout(Path(settings.SANDBOX_DIR) / sandbox_id, sandbox_id)
    (layout.home / "work").mkdir(parents=True)
    (layout.home / "work" / "notes.txt").write_text("mine\n")
    os.symlink("/etc/passwd", layout.home / "link")
    for path in (layout.home, layout.home / "work", layout.home / "work" / "notes.txt"):
        os.chown(path, layout.uid, layout.gid)
    os.lchown(layout.home / "link", layout.uid, layout.gid)
    try:
        layout.ensure()
        assert homefs.is_bounded(layout.home)
        assert (layout.home / "work" / "notes.txt").read_text() == "mine\n"
        assert os.readlink(layout.home / "link") == "/etc/passwd"
        assert (layout.home / "work" / "notes.txt").stat().st_uid == layout.uid
        assert not (layout.root / "home.before-fs").exists()
    finally:
        layout.remove()
    assert not homefs.is_bounded(layout.home) and not layout.root.exists()
