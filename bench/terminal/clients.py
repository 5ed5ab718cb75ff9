"""The terminal benchmark's clients: one per server, each speaking that server's protocol and
acknowledging output as its real page does, and the raw PTY read in this process (the ceiling)."""
from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import pty
import signal
import struct
import subprocess
import termios
import time

from bench.common import log
from bench.processes import ROOT

BASHRC = ROOT / "images" / "toolbox" / "bashrc"
SHELL = ["bash", "--rcfile", str(BASHRC), "-i"]
COLS, ROWS = 80, 24
PROMPT = b"@k8s-lab"
now = time.perf_counter


class Closed(Exception):
    pass


class Client:
    """One terminal connection. read() returns the next output bytes. Each WebSocket client has a
    reader task that does what the real page does on every message (answer pings, acknowledge
    output) and queues the terminal bytes."""
    name = "?"
    ws = None
    pump = None

    async def open(self):
        raise NotImplementedError

    async def send(self, data: bytes):
        raise NotImplementedError

    async def handle(self, message) -> bytes | None:
        """One message from the server: the terminal bytes in it (or None)."""
        raise NotImplementedError

    def start_pump(self):
        self.queue: asyncio.Queue = asyncio.Queue()
        self.pump = asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self):
        try:
            async for message in self.ws:
                data = await self.handle(message)
                if data:
                    self.queue.put_nowait(data)
        except Exception as exc:  # noqa: BLE001 - the reader sees it as a closed terminal
            self.closed_because = f"{type(exc).__name__}: {exc}"
        finally:
            self.queue.put_nowait(None)

    async def read(self) -> bytes:
        data = await self.queue.get()
        if data is None:
            self.queue.put_nowait(None)
            raise Closed(getattr(self, "closed_because", "closed"))
        return data

    def stall(self):
        """Stop reading the socket entirely (the kernel's buffers fill, then the server's)."""
        self.ws.transport.pause_reading()

    async def idle(self):
        """What the real client does after a quiet moment (the lab's page acks the rest)."""

    async def close(self):
        if self.pump:
            self.pump.cancel()
        with contextlib.suppress(Exception):
            self.ws.transport.abort()

    # helpers
    async def until(self, needle: bytes, timeout: float = 30) -> tuple[int, bytes]:
        """Read until needle appears in what arrives from now on. Returns (bytes read, tail)."""
        deadline = now() + timeout
        window, total = b"", 0
        while True:
            left = deadline - now()
            if left <= 0:
                raise TimeoutError(f"{self.name}: {needle!r} not seen; last {window[-200:]!r}")
            data = await asyncio.wait_for(self.read(), left)
            total += len(data)
            window = (window + data)[-(len(needle) + 4096):]
            if needle in window:
                return total, window

    async def quiet(self, period: float = 0.3, timeout: float = 30):
        """Read until nothing arrives for period seconds."""
        deadline = now() + timeout
        while now() < deadline:
            try:
                await asyncio.wait_for(self.read(), period)
            except TimeoutError:
                await self.idle()
                return
        raise TimeoutError(f"{self.name}: output did not stop")


def _ws_connect(url, **kw):
    from websockets.asyncio.client import connect
    return connect(url, ping_interval=None, max_size=None, open_timeout=60, close_timeout=2, **kw)


class LabClient(Client):
    """The lab's page: binary output frames, {"type":"ack"} every 64 KiB and after 100 ms quiet."""
    ACK_EVERY = 65536
    stalled = False
    quiet_acker = None

    def __init__(self, port, sandbox_id, cookie, deflate=True):
        self.name = "lab" if deflate else "lab-nodeflate"
        self.url = f"ws://127.0.0.1:{port}/ws/sandboxes/{sandbox_id}/terminal/?cols={COLS}&rows={ROWS}"
        self.headers = {"Cookie": f"sessionid={cookie}"}
        self.origin = f"http://127.0.0.1:{port}"
        self.deflate = deflate
        self.unacked = 0

    async def open(self):
        self.ws = await _ws_connect(self.url, additional_headers=self.headers, origin=self.origin,
                                    compression="deflate" if self.deflate else None)
        first = await asyncio.wait_for(self.ws.recv(), 60)
        hello = json.loads(first) if isinstance(first, str) else {}
        if hello.get("type") != "hello":
            raise RuntimeError(f"lab: expected hello, got {first!r:.300}")
        self.deflate_negotiated = any("deflate" in type(e).__name__.lower()
                                      for e in (self.ws.protocol.extensions or []))
        self.last_rx = now()
        self.start_pump()
        self.quiet_acker = asyncio.get_running_loop().create_task(self._ack_when_quiet())

    async def _ack_when_quiet(self):
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(0.05)
                if self.unacked and now() - self.last_rx >= 0.1 and not self.stalled:
                    await self.idle()

    async def handle(self, message):
        self.last_rx = now()
        if isinstance(message, bytes):
            self.unacked += len(message)
            if self.unacked >= self.ACK_EVERY:
                await self.idle()
            return message
        control = json.loads(message)
        if control.get("type") == "exit":
            raise Closed("exit")
        if control.get("type") == "error":
            log(f"{self.name}: error message from the server: {control}")
        return None

    async def idle(self):
        if self.unacked:
            count, self.unacked = self.unacked, 0
            await self.ws.send(json.dumps({"type": "ack", "bytes": count}))

    async def send(self, data):
        await self.ws.send(data)

    def stall(self):
        self.stalled = True
        super().stall()

    async def close(self):
        if self.quiet_acker:
            self.quiet_acker.cancel()
        await super().close()


class TerminadoClient(Client):
    """terminado's page: JSON text frames ["stdin", s] / ["stdout", s]; no flow control."""
    name = "terminado"

    def __init__(self, port):
        self.url = f"ws://127.0.0.1:{port}/websocket"

    async def open(self):
        self.ws = await _ws_connect(self.url)
        await self.ws.send(json.dumps(["set_size", ROWS, COLS, ROWS * 17, COLS * 9]))
        self.start_pump()

    async def handle(self, message):
        kind, *rest = json.loads(message)
        if kind == "stdout":
            return rest[0].encode()
        if kind == "disconnect":
            raise Closed("disconnect")
        return None

    async def send(self, data):
        await self.ws.send(json.dumps(["stdin", data.decode()]))


class WettyClient(Client):
    """wetty's page: socket.io 4 over a WebSocket (Engine.IO v4 framing); answers the server's
    pings (every 3 s, or it is dropped after 7 s more) and emits "commit" every 256 Ki chars."""
    name = "wetty"
    COMMIT = 262144  # wetty's FlowControlClient.ackBytes

    def __init__(self, port):
        self.url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"
        self.counter = 0

    async def open(self):
        self.ws = await _ws_connect(self.url)
        opening = await asyncio.wait_for(self.ws.recv(), 30)
        if not opening.startswith("0"):
            raise RuntimeError(f"wetty: unexpected {opening!r}")
        await self.ws.send("40")
        deadline = now() + 30
        while now() < deadline:  # namespace connected, then the shell spawned ("login")
            message = await asyncio.wait_for(self.ws.recv(), 30)
            if message.startswith('42["login"'):
                break
            if message == "2":
                await self.ws.send("3")
        await self._emit("resize", {"cols": COLS, "rows": ROWS})
        self.start_pump()

    async def _emit(self, event, payload):
        await self.ws.send("42" + json.dumps([event, payload]))

    async def handle(self, message):
        if message == "2":  # Engine.IO ping
            await self.ws.send("3")
            return None
        if message.startswith("42"):
            event = json.loads(message[2:])
            if event[0] == "data":
                text = event[1]
                self.counter += len(text)
                if self.counter >= self.COMMIT:
                    self.counter -= self.COMMIT
                    await self._emit("commit", self.COMMIT)
                return text.encode()
            if event[0] == "logout":
                raise Closed("logout")
        elif message.startswith("41"):
            raise Closed("namespace disconnect")
        return None

    async def send(self, data):
        await self._emit("input", data.decode())


def _set_ctty():
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class RawClient(Client):
    """No server: the shell's PTY read by this process (asyncio reader, 64 KiB reads)."""
    name = "raw"

    def __init__(self, env):
        self.env = env

    async def open(self):
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.proc = subprocess.Popen(SHELL, stdin=slave, stdout=slave, stderr=slave,
                                     start_new_session=True, env=self.env, close_fds=True,
                                     preexec_fn=_set_ctty, cwd=self.env["HOME"])
        os.close(slave)
        self.fd = master
        os.set_blocking(master, False)
        self.queue: asyncio.Queue = asyncio.Queue()
        self.loop = asyncio.get_running_loop()
        self.loop.add_reader(master, self._readable)

    def _readable(self):
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.loop.remove_reader(self.fd)
        self.queue.put_nowait(data)

    async def send(self, data):
        os.write(self.fd, data)

    async def read(self):
        data = await self.queue.get()
        if not data:
            raise Closed("eof")
        return data

    def read_blocking_until(self, needle: bytes, timeout: float) -> int:
        """The tightest Python loop there is: blocking 64 KiB reads until needle appears."""
        self.loop.remove_reader(self.fd)
        os.set_blocking(self.fd, True)
        try:
            deadline = now() + timeout
            window, total = b"", 0
            while now() < deadline:
                data = os.read(self.fd, 65536)
                total += len(data)
                window = (window + data)[-(len(needle) + 4096):]
                if needle in window:
                    return total
            raise TimeoutError("raw: marker not seen")
        finally:
            os.set_blocking(self.fd, False)
            self.loop.add_reader(self.fd, self._readable)

    def stall(self):
        self.loop.remove_reader(self.fd)

    async def close(self):
        with contextlib.suppress(Exception):
            self.loop.remove_reader(self.fd)
        with contextlib.suppress(OSError):
            os.close(self.fd)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.proc.wait(5)


async def ready(client: Client, timeout=90):
    """Open the terminal and wait for the prompt and the end of start-up output."""
    await asyncio.wait_for(client.open(), timeout)
    await client.until(PROMPT, timeout)
    await client.quiet(0.3, timeout)
    return client

