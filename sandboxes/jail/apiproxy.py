"""A jail's only way out: connections to a unix socket (bind-mounted into the jail, where socat
listens on 127.0.0.1:6443) forwarded to one API server, and nowhere else. The terminal's proxy
runs on the web process's event loop for the life of the shell; a script's runs in a thread of
its own for the life of the script."""
from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from pathlib import Path


class ApiProxy:
    def __init__(self, socket_path: Path, target: tuple[str, int], owner_uid: int | None):
        self.socket_path = Path(socket_path)
        self.target = target
        self.owner_uid = owner_uid
        self.server = None
        self.tasks: set[asyncio.Task] = set()

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        with _bindable(self.socket_path) as path:
            self.server = await asyncio.start_unix_server(self._handle, path=path)
        # Only the jail's uid (and the lab) may connect.
        if self.owner_uid is not None and os.geteuid() == 0:
            os.chown(self.socket_path, self.owner_uid, self.owner_uid)
        os.chmod(self.socket_path, 0o600)

    async def _handle(self, reader, writer):
        try:
            up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(*self.target), 10)
        except (TimeoutError, OSError):
            writer.close()
            return
        pipes = [asyncio.ensure_future(_pipe(reader, up_writer)),
                 asyncio.ensure_future(_pipe(up_reader, writer))]
        self.tasks.update(pipes)
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pipes:
                task.cancel()
                self.tasks.discard(task)
            for w in (writer, up_writer):
                with contextlib.suppress(Exception):
                    w.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await self.server.wait_closed()
        for task in list(self.tasks):
            task.cancel()
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()


# A unix socket's path holds at most 107 bytes, and a sandbox's directory sits below the data dir,
# wherever the operator (or a CI checkout) put it.
SUN_PATH_MAX = 107


@contextlib.contextmanager
def _bindable(path: Path):
    """A name under which `path` can be bound however long it is: itself when it fits, else the
    same place reached through a descriptor of its directory (/proc/self/fd/N/name). The socket
    is made in the real directory either way; only bind() has the length limit."""
    if len(os.fsencode(str(path))) <= SUN_PATH_MAX:
        yield str(path)
        return
    fd = os.open(path.parent, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    finally:
        with contextlib.suppress(Exception):
            writer.write_eof()


class ThreadedApiProxy:
    """An ApiProxy on an event loop in a thread of its own, for synchronous callers (a check
    script run from a worker or a grading thread). Use as a context manager: the socket exists
    inside the with block only."""

    def __init__(self, socket_path: Path, target: tuple[str, int], owner_uid: int | None):
        self.proxy = ApiProxy(socket_path, target, owner_uid)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None

    def __enter__(self) -> ThreadedApiProxy:
        started = threading.Event()
        failure: list[BaseException] = []

        async def serve():
            self._stop = asyncio.Event()
            try:
                await self.proxy.start()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                failure.append(exc)
                started.set()
                return
            started.set()
            await self._stop.wait()
            await self.proxy.close()
            # Connections the jail left open end with it; none outlives the loop.
            others = asyncio.all_tasks() - {asyncio.current_task()}
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        def main():
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(serve())
            finally:
                self._loop.close()

        self._thread = threading.Thread(target=main, name="jail-api-proxy", daemon=True)
        self._thread.start()
        if not started.wait(10):
            self.__exit__(None, None, None)
            raise TimeoutError("the jail's API forwarder did not start within 10 s")
        if failure:
            self._thread.join(5)
            raise failure[0]
        return self

    def __exit__(self, *exc_info) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended already
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)
