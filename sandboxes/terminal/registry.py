"""The terminal sessions of this web process, one per sandbox, and how they are started.

A session belongs to the process that spawned its shell (a PTY cannot move between processes):
with several web processes, a proxy must send a sandbox's terminal sockets to the same one.
"""
from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import pty
import struct
import subprocess
import termios
import time
from pathlib import Path

from asgiref.sync import sync_to_async
from django.conf import settings

from sandboxes import commands, lifecycle
from sandboxes.jail import bwrap, homefiles, kubeconfig, limits
from sandboxes.jail.apiproxy import ApiProxy
from sandboxes.jail.layout import JailLayout, running_as_root
from sandboxes.models import Sandbox
from sandboxes.terminal.session import TerminalSession

log = logging.getLogger(__name__)
TOUCH_EVERY = 20.0

_sessions: dict[str, TerminalSession] = {}
_starting: dict[str, asyncio.Lock] = {}


def get(sandbox_id) -> TerminalSession | None:
    session = _sessions.get(str(sandbox_id))
    return session if session and session.alive else None


def drivers_of(user_id: int) -> int:
    return sum(1 for s in _sessions.values() for v in s.viewers if v.can_write and v.user_id == user_id)


async def get_or_start(sandbox: Sandbox, cols: int = 80, rows: int = 24) -> TerminalSession:
    key = str(sandbox.id)
    lock = _starting.setdefault(key, asyncio.Lock())
    async with lock:
        session = get(key)
        if session is None:
            session = await _start_local(sandbox, cols, rows)
            _sessions[key] = session
        return session


async def close_for(sandbox_id) -> None:
    session = _sessions.get(str(sandbox_id))
    if session:
        await session.close("sandbox stopped")


async def close_all() -> None:
    for session in list(_sessions.values()):
        await session.close("server stopping")


def _prepare(layout: JailLayout, admin: dict) -> None:
    """The jail's files, and the learner's own kubeconfig and bashrc the first time (written as
    the learner: never through a symlink of theirs; never replacing what they changed)."""
    layout.ensure()
    homefiles.write_files(layout, [
        (".kube/config", kubeconfig.for_jail(admin).encode(), 0o600),
        (".bashrc", b"# Your own settings go here; the lab's are in /etc/lab/bashrc.\n", 0o644)])


async def _start_local(sandbox: Sandbox, cols: int, rows: int) -> TerminalSession:
    layout = JailLayout(lifecycle.sandbox_dir(sandbox), sandbox.id)
    admin = await asyncio.to_thread(kubeconfig.load_lab_file, Path(sandbox.kubeconfig))
    await asyncio.to_thread(_prepare, layout, admin)
    as_root = running_as_root()
    proxy = ApiProxy(layout.api_socket, kubeconfig.api_endpoint(admin), layout.uid if as_root else None)
    await proxy.start()
    # The shell and all it starts stay in this run's cgroups (the sandbox's limits) until the
    # session ends, when whatever is left of it is killed and the groups removed.
    run = await asyncio.to_thread(layout.limited_run, "shell")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    try:
        process = subprocess.Popen(
            bwrap.shell_argv(layout, cols, rows, sandbox.tier), stdin=slave, stdout=slave,
            stderr=slave, start_new_session=True, close_fds=True, env={"PATH": "/usr/bin:/bin"},
            preexec_fn=limits.child_setup(run, layout.uid if as_root else None,
                                          layout.gid if as_root else None, tty=True))
    except Exception:
        os.close(master)
        await proxy.close()
        await asyncio.to_thread(run.finish)
        raise
    finally:
        os.close(slave)

    sandbox_id = sandbox.id
    last_touch = [0.0]

    def on_command(command):
        asyncio.get_running_loop().create_task(
            sync_to_async(commands.record, thread_sensitive=False)(sandbox_id, command.line, command.exit_code))

    def on_input():
        now = time.monotonic()
        if now - last_touch[0] > TOUCH_EVERY:
            last_touch[0] = now
            asyncio.get_running_loop().create_task(sync_to_async(_touch, thread_sensitive=False)(sandbox_id))

    def on_end(ended: TerminalSession):
        if _sessions.get(str(sandbox_id)) is ended:
            del _sessions[str(sandbox_id)]
        process.returncode = ended.exit_code  # reaped by the session; keep Popen quiet

    session = TerminalSession(str(sandbox_id), settings.TERMINAL_RING_BYTES,
                              settings.TERMINAL_SESSION_TTL, on_command=on_command,
                              on_input=on_input, on_end=on_end)
    session.add_cleanup(proxy.close)
    session.add_cleanup(lambda: asyncio.to_thread(run.finish))
    session.process = process
    session.size = (cols, rows)
    session.start(process.pid, master)
    log.info("terminal %s started for sandbox %s (pid %s)", session.id, sandbox_id, process.pid)
    return session


def _touch(sandbox_id) -> None:
    sandbox = Sandbox.objects.filter(pk=sandbox_id).first()
    if sandbox is not None:
        lifecycle.touch(sandbox)
