"""The jail's API forwarder binds its unix socket wherever the sandbox lives: a data dir deep
enough to push the socket's path past the kernel's 107 bytes (an operator's choice, a CI
checkout) still gets a working socket at the real path, which the jail bind-mounts."""
import asyncio
import os

import pytest

from sandboxes.jail.apiproxy import SUN_PATH_MAX, ApiProxy

pytestmark = pytest.mark.asyncio


async def test_a_socket_path_past_the_kernel_limit_still_forwards(tmp_path):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    socket_path = deep / "apiserver.sock"
    assert len(str(socket_path)) > SUN_PATH_MAX

    async def answer(reader, writer):
        writer.write(b"pong:" + await reader.read(4))
        await writer.drain()
        writer.close()

    upstream = await asyncio.start_server(answer, "127.0.0.1", 0)
    proxy = ApiProxy(socket_path, ("127.0.0.1", upstream.sockets[0].getsockname()[1]), None)
    await proxy.start()
    try:
        assert socket_path.is_socket()
        assert oct(socket_path.stat().st_mode & 0o777) == "0o600"
        # What the jail does: connect to the socket file itself (here through its directory, as
        # the jail's short bind-mounted name does).
        fd = os.open(deep, os.O_PATH | os.O_DIRECTORY)
        try:
            reader, writer = await asyncio.open_unix_connection(f"/proc/self/fd/{fd}/apiserver.sock")
        finally:
            os.close(fd)
        writer.write(b"ping")
        await writer.drain()
        assert await asyncio.wait_for(reader.read(100), 10) == b"pong:ping"
        writer.close()
    finally:
        await proxy.close()
        upstream.close()
    assert not socket_path.exists()
