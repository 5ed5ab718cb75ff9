"""Resource limits for everything that runs in a learner's jail: a cgroup (v1: pids, memory, cpu)
per sandbox holding the limits, a child pids group per process tree (a shell, a script, a copy)
so that tree can be found, killed and removed as a whole, and rlimits. A child process enters
them before it drops to the learner's uid, so nothing of the learner's ever runs outside them.

The groups live at <controller>/k8s-lab/<sandbox id>, one per sandbox whichever lab process
(web or worker) starts the run, so the limits are the sandbox's, not a process's. They are
removed with the sandbox's files (release_sandbox). Memory and CPU have no per-run child: a
removed memory group lingers in the kernel while pages are charged to it, and scripts run every
few seconds. Where this host has no cgroup v1 controller or the lab is not root, the run has its
rlimits only and a warning says so once.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import resource
import signal
import termios
import time
import uuid
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)
CGROUP_ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("pids", "memory", "cpu")
GROUP = "k8s-lab"
CFS_PERIOD_US = 100_000
OPEN_FILES = 8192
_warned: set[str] = set()


def base(controller: str) -> Path | None:
    """Where the sandbox groups of a controller live, or None if this host has no such v1
    controller."""
    mount = CGROUP_ROOT / controller
    return mount / GROUP if (mount / "cgroup.procs").exists() else None


def unavailable_reason() -> str | None:
    """Why jails cannot be limited by cgroups here, or None when they can."""
    if os.geteuid() != 0:
        return "the lab does not run as root, and making cgroups needs root"
    missing = [c for c in CONTROLLERS if base(c) is None]
    if missing:
        return f"this host has no cgroup v1 controller {', '.join(missing)} under {CGROUP_ROOT}"
    # A container sees its own cgroups read-only unless they are handed to it (the compose
    # web's docker-compose.cgroup-v1.yml, docs/deploy-compose.md).
    read_only = [c for c in CONTROLLERS if not os.access(CGROUP_ROOT / c, os.W_OK)]
    if read_only:
        return f"the cgroup v1 controllers {', '.join(read_only)} are read-only here"
    return None


def _write(path: Path, value) -> None:
    path.write_text(f"{value}\n")


def _sandbox_limits() -> dict[str, list[tuple[str, object]]]:
    memory = settings.JAIL_MEMORY_BYTES
    return {
        "pids": [("pids.max", settings.JAIL_PIDS_MAX)],
        # Swap accounting first unlimited, so memory may be set lower or higher, then equal:
        # no swapping out of the limit (this host has no swap, others may).
        "memory": [("memory.memsw.limit_in_bytes", -1), ("memory.limit_in_bytes", memory),
                   ("memory.memsw.limit_in_bytes", memory)],
        "cpu": [("cpu.shares", settings.JAIL_CPU_SHARES), ("cpu.cfs_period_us", CFS_PERIOD_US),
                ("cpu.cfs_quota_us", CFS_PERIOD_US * settings.JAIL_CPU_PERCENT // 100)],
    }


def _ensure_sandbox_group(sandbox_id: str) -> dict[str, Path]:
    groups = {}
    for controller, values in _sandbox_limits().items():
        group = base(controller) / sandbox_id
        group.mkdir(parents=True, exist_ok=True)
        for name, value in values:
            try:
                _write(group / name, value)
            except FileNotFoundError:
                continue  # memory.memsw.* exists only with swap accounting
            except OSError as exc:
                # Lowering a limit below what is in use now fails (EBUSY); it applies next time.
                log.warning("could not set %s=%s for sandbox %s: %s", name, value, sandbox_id, exc)
        groups[controller] = group
    return groups


class Run:
    """One process tree in a sandbox's jail. Made in the lab process; enter() runs in the forked
    child; finish() kills what is left of the tree and removes its pids group."""

    def __init__(self, sandbox_id: str, kind: str, sandbox_dir: Path):
        self.sandbox_id = sandbox_id
        self.sandbox_dir = sandbox_dir
        self.tree: Path | None = None
        self.limited = False
        self._nproc = settings.JAIL_PIDS_MAX
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        self._nofile = OPEN_FILES if hard == resource.RLIM_INFINITY else min(OPEN_FILES, hard)
        reason = unavailable_reason()
        if reason is not None:
            if reason not in _warned:
                _warned.add(reason)
                log.warning("learners' jails have NO pids, memory or CPU limits: %s", reason)
            return
        groups = _ensure_sandbox_group(sandbox_id)
        self.tree = groups["pids"] / f"{kind}-{uuid.uuid4().hex[:12]}"
        self.tree.mkdir()
        self.limited = True
        # Encoded now: the child between fork and exec should do as little as possible.
        self._procs = [os.fsencode(g / "cgroup.procs")
                       for g in (self.tree, groups["memory"], groups["cpu"])]

    def enter(self, as_learner: bool) -> None:
        """In the child, before exec and before it drops root: join the groups, set rlimits."""
        if self.limited:
            pid = str(os.getpid()).encode()
            for procs in self._procs:
                fd = os.open(procs, os.O_WRONLY)
                try:
                    os.write(fd, pid)
                finally:
                    os.close(fd)
        if as_learner:
            # Counted per uid, so per sandbox: a second bound, and the only one without cgroups.
            # (Not when the jail runs as the lab's own uid: it would count the lab's processes.)
            resource.setrlimit(resource.RLIMIT_NPROC, (self._nproc, self._nproc))
        resource.setrlimit(resource.RLIMIT_NOFILE, (self._nofile, self._nofile))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    def finish(self, wait: float = 5.0) -> None:
        """Kill every process still in the run's tree and remove its group (bounded in time)."""
        if self.tree is not None and _empty_and_remove([self.tree], wait):
            log.warning("processes of sandbox %s outlived their run: %s", self.sandbox_id,
                        _pids(self.tree))
        if self.tree is not None and not self.sandbox_dir.exists():
            release_sandbox(self.sandbox_id)  # removed while this ran: its groups go now


def _pids(group: Path) -> list[int]:
    with contextlib.suppress(OSError):
        return [int(p) for p in (group / "cgroup.procs").read_text().split()]
    return []


def _empty_and_remove(groups: list[Path], wait: float) -> list[Path]:
    """SIGKILL what is in the groups and remove them; returns the groups still there after wait
    seconds (a process in uninterruptible sleep)."""
    deadline = time.monotonic() + wait
    while groups and time.monotonic() < deadline:
        for pid in {pid for group in groups for pid in _pids(group)}:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        remaining = []
        for group in groups:
            try:
                group.rmdir()
            except FileNotFoundError:
                pass
            except OSError as exc:
                if exc.errno != errno.EBUSY:
                    raise
                remaining.append(group)
        groups = remaining
        if groups:
            time.sleep(0.02)
    return groups


def release_sandbox(sandbox_id: str) -> None:
    """Remove a sandbox's groups (with its files): whatever still runs in them is killed."""
    if unavailable_reason() is not None:
        return
    pids_group = base("pids") / str(sandbox_id)
    if pids_group.is_dir():
        _empty_and_remove([p for p in pids_group.iterdir() if p.is_dir()], wait=5.0)
    for controller in CONTROLLERS:
        group = base(controller) / str(sandbox_id)
        if group.is_dir() and _empty_and_remove([group], wait=5.0):
            log.warning("could not remove %s: %s still run there", group, _pids(group))


def child_setup(run: Run, uid: int | None, gid: int | None, tty: bool = False):
    """The preexec function of a jail's first process: default signal handling (an ignored
    SIGINT survives exec: without this Ctrl-C would do nothing in the learner's shell), the PTY
    as controlling terminal for a shell, the run's limits, then the learner's uid."""
    def setup():
        for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE, signal.SIGTERM, signal.SIGHUP,
                    signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU):
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        if tty:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        run.enter(as_learner=uid is not None)
        if uid is not None:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
    return setup
