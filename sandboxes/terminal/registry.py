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
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path

from asgiref.sync import sync_to_async
from django.conf import settings

from sandboxes import commands, lifecycle
from sandboxes.models import Sandbox
from sandboxes.terminal import jail
from sandboxes.terminal.apiproxy import ApiProxy, api_endpoint
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


def _child_setup(uid: int | None, gid: int | None):
    def setup():
        # An ignored SIGINT survives exec (the lab may run under nohup or as a background job):
        # without this, Ctrl-C would do nothing in the learner's shell.
        for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE, signal.SIGTERM, signal.SIGHUP,
                    signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU):
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        if uid is not None:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
    return setup


async def _start_local(sandbox: Sandbox, cols: int, rows: int) -> TerminalSession:
    layout = jail.JailLayout(lifecycle.sandbox_dir(sandbox), sandbox.id)
    admin_kubeconfig = Path(sandbox.kubeconfig)
    await asyncio.to_thread(layout.prepare, admin_kubeconfig)
    proxy = ApiProxy(layout.api_socket, api_endpoint(admin_kubeconfig),
                     layout.uid if os.geteuid() == 0 else None)
    await proxy.start()
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    as_root = os.geteuid() == 0
    try:
        process = subprocess.Popen(
            jail.command(layout, cols, rows, sandbox.tier), stdin=slave, stdout=slave, stderr=slave,
            start_new_session=True, close_fds=True, env={"PATH": "/usr/bin:/bin"},
            preexec_fn=_child_setup(layout.uid if as_root else None, layout.gid if as_root else None))
    except Exception:
        os.close(master)
        await proxy.close()
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
    session.process = process
    session.size = (cols, rows)
    session.start(process.pid, master)
    log.info("terminal %s started for sandbox %s (pid %s)", session.id, sandbox_id, process.pid)
    return session


def _touch(sandbox_id) -> None:
    sandbox = Sandbox.objects.filter(pk=sandbox_id).first()
    if sandbox is not None:
        lifecycle.touch(sandbox)
