"""One learner's shell and everyone looking at it.

A TerminalSession owns a process on a pseudo-terminal, keeps the last TERMINAL_RING_BYTES of
its output in a ring addressed by absolute byte offsets, and streams that output to any number
of viewers (WebSocket consumers). It outlives its viewers: when the last one leaves, the shell
keeps running for TERMINAL_SESSION_TTL seconds, so a reloaded page finds the same shell and its
scrollback.

Flow control is by byte credits. Each viewer that may type (a driver) acknowledges the bytes it
has rendered. When any driver is more than HIGH_WATER bytes behind, the session stops reading
the PTY, so the shell blocks on its own writes (and `yes` stops burning CPU) instead of the
server buffering without bound; it reads again once every driver is within LOW_WATER bytes.
Read-only watchers never hold the learner back: if one falls off the ring, it skips ahead.
"""
from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import logging
import os
import signal
import struct
import termios
import time
import uuid
from collections.abc import Callable

from sandboxes.terminal.ring import OutputRing
from sandboxes.terminal.shellmarks import Command, MarkExtractor

log = logging.getLogger(__name__)

# Measured (BENCHMARKS.md): at 512/128 KiB about 240 KiB of a `yes` flood was still queued ahead
# of the prompt after Ctrl-C (42 ms); at 128/64 KiB it is 72 KiB (13 ms), at the same throughput.
HIGH_WATER = 128 * 1024
LOW_WATER = 64 * 1024
READ_CHUNK = 65536
# One burst of reading before the loop lets viewers send: big enough to coalesce output into
# useful frames, small enough to keep Ctrl-C and other sessions responsive.
READ_BURST = 64 * 1024
FRAME_MAX = 128 * 1024
INPUT_QUEUE_MAX = 256 * 1024


class Viewer:
    """One attached WebSocket. send is the consumer's coroutine for binary frames."""

    def __init__(self, send: Callable, on_exit: Callable, can_write: bool, user_id: int | None,
                 offset: int):
        self.send = send
        self.on_exit = on_exit
        self.can_write = can_write
        self.user_id = user_id
        self.sent = offset
        self.acked = offset
        self.wake = asyncio.Event()
        self.task: asyncio.Task | None = None
        self.skipped = 0


class TerminalSession:
    def __init__(self, key: str, ring_bytes: int, ttl: float,
                 on_command: Callable[[Command], None] | None = None,
                 on_input: Callable[[], None] | None = None,
                 on_end: Callable[[TerminalSession], None] | None = None):
        self.key = key
        self.id = uuid.uuid4().hex[:12]
        self.ring = OutputRing(ring_bytes)
        self.ttl = ttl
        self.viewers: set[Viewer] = set()
        self.exit_code: int | None = None
        self.closed = False
        self.pid: int | None = None
        self.fd: int | None = None
        self._reading = False
        self._input = bytearray()
        self._writing = False
        self._marks = MarkExtractor()
        self._ttl_handle: asyncio.TimerHandle | None = None
        self._on_command = on_command
        self._on_input = on_input
        self._on_end = on_end
        self._cleanups: list[Callable] = []
        self.size = (80, 24)
        self.started_at = time.time()

    # Life -------------------------------------------------------------------------------------
    def start(self, pid: int, master_fd: int) -> None:
        self.pid, self.fd = pid, master_fd
        os.set_blocking(master_fd, False)
        self._loop = asyncio.get_running_loop()
        self._update_reading()
        self._arm_ttl()

    def add_cleanup(self, fn: Callable) -> None:
        self._cleanups.append(fn)

    @property
    def alive(self) -> bool:
        return not self.closed

    async def close(self, reason: str = "closed") -> None:
        """End the shell (its whole process group) and tell every viewer."""
        if self.closed:
            return
        await self._terminate()
        await self._finish()

    async def _terminate(self) -> None:
        if self.pid is None:
            return
        for sig in (signal.SIGHUP, signal.SIGTERM):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, sig)
        # Give it a second to go quietly (without blocking the loop), then make sure.
        for _ in range(100):
            if self._reap(block=False) is not None:
                return
            await asyncio.sleep(0.01)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self._reap(block=True)

    def _reap(self, block: bool) -> int | None:
        if self.exit_code is not None or self.pid is None:
            return self.exit_code
        try:
            pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            self.exit_code = self.exit_code if self.exit_code is not None else -1
            return self.exit_code
        if pid == 0:
            return None
        self.exit_code = os.waitstatus_to_exitcode(status)
        return self.exit_code

    async def _finish(self) -> None:
        self.closed = True
        self._stop_reading()
        if self._writing and self.fd is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_writer(self.fd)
        if self._ttl_handle:
            self._ttl_handle.cancel()
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None
        for viewer in list(self.viewers):
            viewer.wake.set()
        for cleanup in self._cleanups:
            with contextlib.suppress(Exception):
                result = cleanup()
                if asyncio.iscoroutine(result):
                    await result
        if self._on_end:
            self._on_end(self)

    # Output -----------------------------------------------------------------------------------
    def _update_reading(self) -> None:
        """Read the PTY only while someone is watching and no driver is too far behind."""
        if self.closed or self.fd is None:
            return
        drivers = [v for v in self.viewers if v.can_write]
        behind = max((self.ring.end - v.acked for v in drivers), default=0)
        if not self.viewers:
            want = False
        elif self._reading:
            want = behind <= HIGH_WATER
        else:
            want = behind <= LOW_WATER
        if want and not self._reading:
            self._loop.add_reader(self.fd, self._on_readable)
            self._reading = True
        elif not want and self._reading:
            self._stop_reading()

    def _stop_reading(self) -> None:
        if self._reading and self.fd is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self.fd)
        self._reading = False

    def _on_readable(self) -> None:
        got = 0
        while got < READ_BURST:
            try:
                data = os.read(self.fd, READ_CHUNK)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.EIO:  # the shell side closed: the process is ending
                    data = b""
                else:
                    raise
            if not data:
                self._stop_reading()
                self._loop.create_task(self._on_exit())
                break
            got += len(data)
            shown, commands = self._marks.feed(data)
            if shown:
                self.ring.append(shown)
            for command in commands:
                if self._on_command:
                    self._on_command(command)
        if got:
            for viewer in self.viewers:
                viewer.wake.set()
            self._update_reading()

    async def _on_exit(self) -> None:
        # Wait for the process without blocking the loop.
        for _ in range(200):
            if self._reap(block=False) is not None:
                break
            await asyncio.sleep(0.01)
        else:
            await self._terminate()
        await self._finish()

    # Viewers ----------------------------------------------------------------------------------
    def attach(self, send: Callable, on_exit: Callable, can_write: bool, user_id: int | None,
               offset: int | None = None) -> Viewer:
        """Add a viewer; it first receives everything from offset (default: the whole ring).
        send(bytes) and on_exit(code) are the viewer's coroutines."""
        start = self.ring.start if offset is None else min(max(offset, self.ring.start), self.ring.end)
        viewer = Viewer(send, on_exit, can_write, user_id, start)
        self.viewers.add(viewer)
        viewer.task = asyncio.get_running_loop().create_task(self._stream(viewer))
        viewer.wake.set()
        if self._ttl_handle:
            self._ttl_handle.cancel()
            self._ttl_handle = None
        self._update_reading()
        return viewer

    def detach(self, viewer: Viewer) -> None:
        self.viewers.discard(viewer)
        if viewer.task:
            viewer.task.cancel()
        self._update_reading()
        if not self.viewers:
            self._arm_ttl()

    def ack(self, viewer: Viewer, count: int) -> None:
        viewer.acked = min(viewer.sent, viewer.acked + max(0, count))
        self._update_reading()

    async def _stream(self, viewer: Viewer) -> None:
        """Send the viewer what it has not seen yet, a frame at a time. The send awaits the
        socket, so a client that stops reading stops this loop, never the others."""
        try:
            while True:
                await viewer.wake.wait()
                viewer.wake.clear()
                while viewer.sent < self.ring.end:
                    start, chunk = self.ring.read(viewer.sent, FRAME_MAX)
                    if start > viewer.sent:  # fell off the ring: skip ahead
                        viewer.skipped += start - viewer.sent
                        viewer.acked = max(viewer.acked, start)
                    viewer.sent = start + len(chunk)
                    await viewer.send(chunk)
                    if not viewer.can_write:
                        viewer.acked = viewer.sent
                if self.closed:
                    await viewer.on_exit(self.exit_code)
                    return
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a broken socket ends this viewer only
            log.debug("viewer stream ended", exc_info=True)

    # Input ------------------------------------------------------------------------------------
    def write(self, data: bytes) -> bool:
        """Queue keystrokes for the shell. False if the queue is full (input is dropped: a
        client pasting megabytes into a shell that is not reading them gets told so)."""
        if self.closed or self.fd is None:
            return False
        if len(self._input) + len(data) > INPUT_QUEUE_MAX:
            return False
        self._input += data
        self._flush_input()
        if self._on_input:
            self._on_input()
        return True

    def _flush_input(self) -> None:
        while self._input and self.fd is not None:
            try:
                written = os.write(self.fd, self._input[:4096])
            except BlockingIOError:
                written = 0
            except OSError:
                self._input.clear()
                break
            if written == 0:
                break
            del self._input[:written]
        want_writer = bool(self._input) and self.fd is not None
        if want_writer and not self._writing:
            self._loop.add_writer(self.fd, self._flush_input)
            self._writing = True
        elif not want_writer and self._writing:
            with contextlib.suppress(Exception):
                self._loop.remove_writer(self.fd)
            self._writing = False

    def resize(self, cols: int, rows: int) -> None:
        if self.fd is None:
            return
        self.size = (cols, rows)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    # Time to live -----------------------------------------------------------------------------
    def _arm_ttl(self) -> None:
        if self.closed or self.viewers:
            return
        if self._ttl_handle:
            self._ttl_handle.cancel()
        self._ttl_handle = self._loop.call_later(
            self.ttl, lambda: self._loop.create_task(self.close("idle")) if not self.viewers else None)
