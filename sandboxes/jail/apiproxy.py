"""Forwards connections from a jail's unix socket to one API server, and nowhere else."""
from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import yaml


def api_endpoint(kubeconfig: Path) -> tuple[str, int]:
    config = yaml.safe_load(Path(kubeconfig).read_text())
    server = config["clusters"][0]["cluster"]["server"]
    hostport = server.split("://", 1)[1].split("/", 1)[0]
    host, _, port = hostport.rpartition(":")
    return host.strip("[]"), int(port)


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
        self.server = await asyncio.start_unix_server(self._handle, path=str(self.socket_path))
        # Only the jail's uid (and the lab) may connect.
        if self.owner_uid is not None and os.geteuid() == 0:
            os.chown(self.socket_path, self.owner_uid, self.owner_uid)
        os.chmod(self.socket_path, 0o600)

    async def _handle(self, reader, writer):
        try:
            up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection(*self.target), 10)
        except (OSError, asyncio.TimeoutError):
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
