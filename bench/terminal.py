#!/usr/bin/env python
"""The web terminal, measured beside its peers in one run; prints one JSON document on stdout.

    .venv/bin/python bench/terminal.py [--sessions 100] [--quick] [--save]

Servers (all on 127.0.0.1, all up at the same time, measured one after the other):
  lab            uvicorn serving lab.asgi:application (--ws websockets, as `make run` starts it), a
                 real jailed shell (bubblewrap) on a real kwok cluster, reached through the real
                 Origin check, session cookie and owner check. The client offers permessage-deflate,
                 as every browser does; uvicorn accepts it.
  lab-nodeflate  the same server and shell, the client not offering compression.
  terminado      terminado 0.18.1 (Jupyter's terminal server) on tornado, UniqueTermManager.
  wetty          wetty from npm (node, node-pty, socket.io), running the shell locally (it does so
                 when it runs as root and its ssh host is localhost: no ssh involved).
  raw            no server: this process reads the shell's PTY itself (the ceiling).
Peers run `bash --rcfile images/toolbox/bashrc -i` unjailed; the lab runs the same rc file in
its jail. Every window is 80x24. Clients acknowledge output as the real ones do: the lab's
{"type":"ack"} every 64 KiB, wetty's "commit" every 256 Ki characters; terminado has none.
Progress goes to stderr; --save also writes bench/results/terminal-<date>.json.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import pty
import random
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (ROOT, LabEnv, finish, free_port, kill_pids, load, log,  # noqa: E402
                    login_session_key, machine, pct, pids_matching, summary_ms, tree_rss_kib,
                    wait_for)

BASHRC = ROOT / "images" / "toolbox" / "bashrc"
SHELL = ["bash", "--rcfile", str(BASHRC), "-i"]
COLS, ROWS = 80, 24
WETTY_VERSION = "3.2.0"
TERMINADO_VERSION = "0.18.1"
PROMPT = b"@k8s-lab"
DONE_CMD, DONE = b"echo __done_$((6*7))", b"__done_42"
SEQ_CMD = b"seq 1 2000000"
TARGETS = {"echo_p99_ms": 1.5, "throughput_pct_of_raw": 90, "ctrl_c_p50_ms": 20,
           "stalled_growth_mib": 10, "concurrent_p99_ms": 20}
now = time.perf_counter


class Closed(Exception):
    pass


# Clients ------------------------------------------------------------------------------------
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
            except asyncio.TimeoutError:
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


# Measurements -------------------------------------------------------------------------------
async def one_echo(client: Client, char: bytes, timeout=10) -> float:
    t0 = now()
    await client.send(char)
    await client.until(char, timeout)
    elapsed = now() - t0
    await client.send(b"\x7f")  # erase it again, so the line never grows
    await client.until(b"\x08", timeout)
    return elapsed


async def echo(client: Client, samples: int, warmup: int) -> dict:
    letters = b"abcdefghijklmnopqrstuvwxyz"
    times = []
    for i in range(warmup + samples):
        t = await one_echo(client, letters[i % 26:i % 26 + 1])
        if i >= warmup:
            times.append(t)
        await asyncio.sleep(0.003)
    await client.quiet(0.2)
    return summary_ms(times)


async def throughput(client: Client, raw_blocking=False, server_pid=None) -> dict:
    await client.quiet(0.3)
    cpu0 = cpu_seconds(server_pid) if server_pid else None
    t0 = now()
    await client.send(SEQ_CMD + b"; " + DONE_CMD + b"\r")
    if raw_blocking:
        total = await asyncio.to_thread(client.read_blocking_until, DONE, 120)
    else:
        total, _ = await client.until(DONE, 120)
    elapsed = now() - t0
    cpu = (cpu_seconds(server_pid) - cpu0) if server_pid else None
    await client.quiet(0.3)
    out = {"bytes": total, "seconds": round(elapsed, 3), "mb_s": round(total / elapsed / 1e6, 2)}
    if cpu is not None:
        out["server_cpu_s"] = round(cpu, 2)
    return out


async def ctrl_c(client: Client, tries: int, flood_bytes=256 * 1024) -> dict:
    times, drained = [], []
    for _ in range(tries):
        await client.quiet(0.3)
        await client.send(b"yes\r")
        got = 0
        while got < flood_bytes:
            got += len(await asyncio.wait_for(client.read(), 30))
        t0 = now()
        await client.send(b"\x03")
        total, _ = await client.until(PROMPT, 60)
        times.append(now() - t0)
        drained.append(total)
    await client.quiet(0.3)
    out = summary_ms(times)
    out["bytes_after_ctrl_c_median"] = int(pct(drained, 50))
    return out


async def stalled_memory(client: Client, server_pid: int, seconds=10.0) -> dict:
    """The client runs `yes`, reads (and acks) 1 MiB, then stops reading the socket entirely."""
    await client.send(b"yes\r")
    got = 0
    while got < 1024 * 1024:
        got += len(await asyncio.wait_for(client.read(), 30))
    client.stall()
    series = []
    t0 = now()
    while now() - t0 < seconds:
        own, tree, count = tree_rss_kib(server_pid)
        series.append((round(now() - t0, 2), own, tree, count))
        await asyncio.sleep(0.25)
    own, tree, count = tree_rss_kib(server_pid)
    series.append((round(now() - t0, 2), own, tree, count))
    with contextlib.suppress(Exception):
        await client.send(b"\x03")  # the other direction still works: stop the flood
    await asyncio.sleep(0.2)
    await client.close()
    mib = lambda kib: round(kib / 1024, 1)  # noqa: E731

    def stats(index):
        values = [row[index] for row in series]
        return {"start_mib": mib(values[0]), "end_mib": mib(values[-1]), "max_mib": mib(max(values)),
                "growth_mib": mib(values[-1] - values[0])}
    return {"server": stats(1), "server_and_children": stats(2), "processes": series[-1][3],
            "samples": len(series)}


def cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


async def concurrent(make_client, count: int, seconds: float, interval: float,
                     server_pid: int | None, dump_dir: Path | None = None) -> dict:
    """count terminals, each with one client typing a key every ~interval s (a fast typist) and
    timing its echo."""
    clients: list[Client] = []
    t_open = now()
    failures = []
    for start in range(0, count, 10):
        batch = [make_client(i) for i in range(start, min(count, start + 10))]
        results = await asyncio.gather(*(ready(c, 180) for c in batch), return_exceptions=True)
        for c, r in zip(batch, results):
            if isinstance(r, BaseException):
                failures.append(f"{type(r).__name__}: {r}")
                await c.close()
            else:
                clients.append(c)
    opened = now() - t_open
    log(f"  {len(clients)}/{count} terminals open in {opened:.1f}s")
    rss = tree_rss_kib(server_pid) if server_pid else None
    letters = b"abcdefghijklmnopqrstuvwxyz"
    times: list[float] = []
    stamps: list[tuple[float, float, int]] = []  # (sent at, latency, session)
    errors: list[str] = []
    t_begin = now()

    async def typist(client: Client, seed: int):
        rng = random.Random(seed)
        end = now() + seconds
        i = seed
        await asyncio.sleep(rng.uniform(0, interval))
        while now() < end:
            try:
                sent = now() - t_begin
                times.append(await one_echo(client, letters[i % 26:i % 26 + 1], timeout=15))
                stamps.append((round(sent, 4), round(times[-1], 5), seed))
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
                return
            i += 1
            await asyncio.sleep(rng.uniform(0.5, 1.5) * interval)

    cpu0, t0 = (cpu_seconds(server_pid) if server_pid else 0.0), now()
    await asyncio.gather(*(typist(c, n) for n, c in enumerate(clients)))
    cpu = ((cpu_seconds(server_pid) - cpu0) / (now() - t0) * 100) if server_pid else None
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
    out = summary_ms(times)
    # Are the slow echoes spread out (CPU contention) or bunched (the whole server paused)?
    slow = [st for st in stamps if st[1] > 0.020]
    windows = {}
    for sent, latency, session in slow:
        windows.setdefault(int(sent * 10), set()).add(session)
    out["over_20ms"] = {"count": len(slow), "pct": round(100 * len(slow) / max(1, len(stamps)), 2),
                        "distinct_100ms_windows": len(windows),
                        "most_sessions_slow_in_one_window": max((len(v) for v in windows.values()),
                                                                default=0)}
    if dump_dir:
        (dump_dir / f"concurrent-{clients[0].name if clients else 'none'}.json").write_text(
            json.dumps(stamps))
    out.update({"sessions": len(clients), "open_failures": failures[:5], "errors": len(errors),
                "error_examples": errors[:3], "seconds_to_open_all": round(opened, 1),
                "keys_per_second_total": round(len(times) / seconds, 1),
                "server_cpu_pct_of_one_core": round(cpu, 1) if cpu is not None else None,
                "server_cpu_ms_per_key": round(cpu * 10 / max(1, len(times) / seconds), 2)
                if cpu is not None else None})
    if rss:
        out["rss_with_all_sessions_mib"] = {"server": round(rss[0] / 1024, 1),
                                            "server_and_children": round(rss[1] / 1024, 1),
                                            "processes": rss[2]}
    return out


class Profiler:
    """py-spy on the lab's uvicorn during one section (--profile): the hottest frames, inclusive
    and self, from its collapsed stacks. py-spy is not a requirement: it is looked for in $PY_SPY,
    on PATH, or in /tmp/bench-tools (`python3 -m venv /tmp/bench-tools && /tmp/bench-tools/bin/pip
    install py-spy`)."""

    def __init__(self, pid: int | None, section: str, out_dir: Path | None):
        self.proc = None
        self.pid, self.section, self.out_dir = pid, section, out_dir
        exe = os.environ.get("PY_SPY") or shutil.which("py-spy") or "/tmp/bench-tools/bin/py-spy"
        if pid and out_dir and os.path.exists(exe):
            self.path = out_dir / f"py-spy-{section}.txt"
            self.proc = subprocess.Popen([exe, "record", "--pid", str(pid), "--rate", "500",
                                          "--format", "raw", "--nonblocking", "-o", str(self.path)],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)

    def stop(self) -> dict | None:
        if not self.proc:
            return None
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None
        inclusive, own, total = {}, {}, 0
        try:
            lines = self.path.read_text().splitlines()
        except OSError:
            return None
        for line in lines:
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            total += n
            frames = [f.split(" (")[0] + " (" + f.split(" (")[1].split("/")[-1] if " (" in f else f
                      for f in stack.split(";")]
            for frame in set(frames):
                inclusive[frame] = inclusive.get(frame, 0) + n
            own[frames[-1]] = own.get(frames[-1], 0) + n
        top = lambda d: [(k, round(100 * v / total, 1)) for k, v in  # noqa: E731
                         sorted(d.items(), key=lambda kv: -kv[1])[:20]]
        return {"samples": total, "self_pct": top(own), "inclusive_pct": top(inclusive)}


# The servers --------------------------------------------------------------------------------
def serve_terminado(port: int) -> None:
    """`terminal.py --serve-terminado PORT`: a plain terminado server, one terminal per socket."""
    import tornado.ioloop
    import tornado.web
    from terminado import TermSocket, UniqueTermManager

    manager = UniqueTermManager(shell_command=SHELL, max_terminals=1000)
    app = tornado.web.Application([(r"/websocket", TermSocket, {"term_manager": manager})])
    app.listen(port, "127.0.0.1")
    tornado.ioloop.IOLoop.current().start()


def install_wetty(cache: Path) -> tuple[Path | None, str]:
    """npm install wetty into a directory outside the repository. Returns (main.js, note)."""
    target = cache / f"wetty-{WETTY_VERSION}"
    main = target / "node_modules" / "wetty" / "build" / "main.js"
    if main.exists():
        return main, "cached"
    if not shutil.which("npm") or not shutil.which("node"):
        return None, "node/npm are not installed"
    target.mkdir(parents=True, exist_ok=True)
    (target / "package.json").write_text('{"name": "bench-wetty", "private": true}\n')
    proc = subprocess.run(["npm", "install", f"wetty@{WETTY_VERSION}", "--no-audit", "--no-fund",
                           "--loglevel=error"], cwd=target, capture_output=True, text=True,
                          timeout=900)
    if proc.returncode != 0 or not main.exists():
        return None, f"npm install wetty@{WETTY_VERSION} failed: {proc.stderr.strip()[-500:]}"
    return main, "installed"


def _http_answers(port: int, path="/") -> bool:
    import urllib.error
    import urllib.request
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3)
    except urllib.error.HTTPError:
        pass
    return True


def _tcp_answers(port: int) -> bool:
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


class Lab:
    """The lab's side: Redis, the database, one kwok cluster shared by many Sandbox rows (one per
    learner: terminals are capped per learner), a session cookie per learner, uvicorn."""

    def __init__(self, env: LabEnv, learners: int):
        self.env = env
        self.learners = learners
        self.cluster = None

    def setup(self) -> dict:
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.utils import timezone

        from sandboxes import lifecycle
        from sandboxes.backends import get_backend
        from sandboxes.models import Sandbox, State
        from sandboxes.tools import run, tool_path

        backend = get_backend("api")
        name = f"k8slab-bench-term-{os.getpid()}"
        t0 = now()
        source = backend.create(name, lambda *a: None)
        self.cluster = name
        created_s = now() - t0
        flat = run([tool_path("kubectl"), "config", "view", "--raw", "--flatten", "--kubeconfig",
                    str(source)], timeout=30).stdout
        self.kubeconfig = str(source)
        User = get_user_model()
        self.sandboxes, self.cookies = [], []
        for i in range(self.learners):
            user = User.objects.create_user(f"bench{i}")
            sandbox = Sandbox.objects.create(owner=user, tier="api", backend="kwok",
                                             state=State.READY, host=settings.LAB_HOST,
                                             cluster=f"{name}-{i}", ready_at=timezone.now())
            directory = lifecycle.sandbox_dir(sandbox)
            directory.mkdir(parents=True, exist_ok=True)
            os.chmod(directory, 0o711)
            path = directory / "kubeconfig"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(flat)
            sandbox.kubeconfig = str(path)
            sandbox.save()
            self.sandboxes.append(str(sandbox.id))
            self.cookies.append(login_session_key(user))
        self.port = free_port()
        self.web = self.env.start("uvicorn", [sys.executable, "-m", "uvicorn", "lab.asgi:application",
                                              "--host", "127.0.0.1", "--port", str(self.port),
                                              "--ws", "websockets", "--lifespan", "off",
                                              "--no-access-log"])
        wait_for(lambda: _http_answers(self.port, "/accounts/login/"), 60, "uvicorn", self.web)
        return {"cluster_create_seconds": round(created_s, 1), "learners": self.learners}

    def client(self, i: int, deflate=True, port=None) -> LabClient:
        client = LabClient(port or self.port, self.sandboxes[i], self.cookies[i], deflate)
        if port:
            client.name = "lab-variant"
        return client

    def start_variant(self, changes: dict) -> int:
        """Another uvicorn with bench/labvariant.py: keys high, low, burst (bytes), skip_db_hop."""
        port = free_port()
        names = {"high": "BENCH_HIGH_WATER", "low": "BENCH_LOW_WATER", "burst": "BENCH_READ_BURST",
                 "skip_db_hop": "BENCH_SKIP_DB_HOP", "gc_log": "BENCH_GC_LOG",
                 "gc_freeze": "BENCH_GC_FREEZE"}
        self.variant = self.env.start(
            "uvicorn-variant", [sys.executable, "-m", "uvicorn", "--app-dir", str(ROOT / "bench"),
                                "labvariant:application", "--host", "127.0.0.1", "--port", str(port),
                                "--ws", "websockets", "--lifespan", "off", "--no-access-log"],
            env={names[k]: v for k, v in changes.items()})
        wait_for(lambda: _http_answers(port, "/accounts/login/"), 60, "uvicorn (variant)", self.variant)
        return port

    def teardown(self):
        if self.cluster:
            from sandboxes.backends import get_backend
            try:
                get_backend("api").delete(self.cluster)
            except Exception as exc:  # noqa: BLE001 - LabEnv.remove kills what is left
                log(f"could not delete cluster {self.cluster}: {exc}")


# The run --------------------------------------------------------------------------------------
async def measure(servers: dict, args, peer_env: dict, results: dict) -> None:
    """servers: name -> (client factory(i), server pid or None)."""
    names = list(servers)
    main = {}
    for name in names:
        log(f"opening {name}")
        try:
            main[name] = await ready(servers[name][0](0))
        except Exception as exc:  # noqa: BLE001
            results["servers"][name]["error"] = f"could not open a terminal: {type(exc).__name__}: {exc}"
            log(f"  {name} failed: {exc}")
    names = [n for n in names if n in main]
    if "lab" in main:
        results["servers"]["lab"]["permessage_deflate_negotiated"] = main["lab"].deflate_negotiated
    if "lab-nodeflate" in main:
        results["servers"]["lab-nodeflate"]["permessage_deflate_negotiated"] = \
            main["lab-nodeflate"].deflate_negotiated

    profile_dir = Path(args.profile) if args.profile else None
    if profile_dir:
        profile_dir.mkdir(parents=True, exist_ok=True)
        results["profile"] = {}

    async def profiled(section_name, name, coro):
        """Run one measurement, under py-spy when it is the lab and --profile was given."""
        prof = Profiler(servers[name][1] if name == "lab" else None, section_name, profile_dir)
        try:
            return await coro
        finally:
            report = await asyncio.to_thread(prof.stop)
            if report:
                results["profile"][section_name] = report

    sections = args.sections.split(",")
    section = results["echo"] = {"load_before": load()}
    for name in names if "echo" in sections else []:
        log(f"echo: {name}")
        section[name] = await profiled("echo", name, echo(main[name], args.echo_samples, args.warmup))
    section["load_after"] = load()

    section = results["throughput"] = {"load_before": load(), "runs": {n: [] for n in names}}
    for rep in range(args.throughput_reps if "throughput" in sections else 0):
        for name in names:  # interleaved, so a change in background load hits every server alike
            log(f"throughput {rep + 1}/{args.throughput_reps}: {name}")
            run = await profiled(f"throughput-{rep + 1}", name,
                                 throughput(main[name], raw_blocking=(name == "raw"),
                                            server_pid=servers[name][1]))
            section["runs"][name].append(run)
    has_raw = "raw" in names and section["runs"]["raw"]
    raw_best = max(r["mb_s"] for r in section["runs"]["raw"]) if has_raw else None
    raw_median = pct([r["mb_s"] for r in section["runs"]["raw"]], 50) if has_raw else None
    for name in names if "throughput" in sections else []:
        rates = [r["mb_s"] for r in section["runs"][name]]
        cpus = [r["server_cpu_s"] for r in section["runs"][name] if "server_cpu_s" in r]
        section[name] = {"mb_s_median": pct(rates, 50), "mb_s_best": max(rates),
                         "server_cpu_s_median": pct(cpus, 50),
                         "pct_of_raw_median": round(100 * pct(rates, 50) / raw_median, 1)
                         if raw_median else None}
    section["raw_pty_mb_s_best"] = raw_best
    section["load_after"] = load()

    section = results["ctrl_c"] = {"load_before": load()}
    for name in names if "ctrl_c" in sections else []:
        log(f"ctrl-c: {name}")
        section[name] = await profiled("ctrl_c", name, ctrl_c(main[name], args.ctrl_c_tries))
    section["load_after"] = load()

    section = results["stalled_client"] = {"load_before": load(), "seconds": 10}
    for name in names if "stalled" in sections else []:
        pid = servers[name][1]
        if pid is None or name == "lab-nodeflate":
            continue
        log(f"stalled client: {name}")
        try:
            client = await ready(servers[name][0](1))
            section[name] = await stalled_memory(client, pid)
        except Exception as exc:  # noqa: BLE001
            section[name] = {"error": f"{type(exc).__name__}: {exc}"}
        await asyncio.sleep(1)
    section["load_after"] = load()

    for client in main.values():
        await client.close()

    section = results["concurrent"] = {"load_before": load(), "sessions": args.sessions,
                                       "seconds": args.concurrent_seconds,
                                       "key_interval_s": args.key_interval}
    for name in names if "concurrent" in sections else []:
        if name == "lab-nodeflate":
            continue
        log(f"{args.sessions} concurrent sessions: {name}")
        factory, pid = servers[name]
        try:
            section[name] = await profiled("concurrent", name, concurrent(
                lambda i: factory(5 + i), args.sessions, args.concurrent_seconds, args.key_interval, pid,
                Path(args.dump_samples) if args.dump_samples else None))
        except Exception as exc:  # noqa: BLE001
            section[name] = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()[-800:]}
        await asyncio.sleep(2)
    section["load_after"] = load()


def verdicts(results: dict) -> dict:
    out = {}
    for name in ("lab", "lab-nodeflate", "lab-variant", "terminado", "wetty"):
        if name not in results["servers"] or "error" in results["servers"][name]:
            continue
        v = {}
        e = results.get("echo", {}).get(name)
        if e and e.get("p99") is not None:
            v["echo_p99_ms"] = {"value": e["p99"], "target": TARGETS["echo_p99_ms"],
                                "met": e["p99"] <= TARGETS["echo_p99_ms"]}
        t = results.get("throughput", {}).get(name)
        if t and t.get("pct_of_raw_median") is not None:
            v["throughput_pct_of_raw"] = {"value": t["pct_of_raw_median"],
                                          "target": TARGETS["throughput_pct_of_raw"],
                                          "met": t["pct_of_raw_median"] >= TARGETS["throughput_pct_of_raw"]}
        c = results.get("ctrl_c", {}).get(name)
        if c and c.get("p50") is not None:
            v["ctrl_c_p50_ms"] = {"value": c["p50"], "target": TARGETS["ctrl_c_p50_ms"],
                                  "met": c["p50"] <= TARGETS["ctrl_c_p50_ms"]}
        s = results.get("stalled_client", {}).get(name)
        if s and "server_and_children" in s:
            growth = s["server_and_children"]["growth_mib"]
            v["stalled_growth_mib"] = {"value": growth, "target": TARGETS["stalled_growth_mib"],
                                       "met": abs(growth) <= TARGETS["stalled_growth_mib"]}
        k = results.get("concurrent", {}).get(name)
        if k and k.get("p99") is not None:
            v["concurrent_p99_ms"] = {"value": k["p99"], "target": TARGETS["concurrent_p99_ms"],
                                      "met": k["p99"] <= TARGETS["concurrent_p99_ms"]
                                      and k["sessions"] == results["concurrent"]["sessions"]}
        out[name] = v
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve-terminado", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--echo-samples", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--throughput-reps", type=int, default=3)
    parser.add_argument("--ctrl-c-tries", type=int, default=7)
    parser.add_argument("--concurrent-seconds", type=float, default=20)
    parser.add_argument("--key-interval", type=float, default=0.2,
                        help="seconds between a typist's keys (0.2: a fast typist)")
    parser.add_argument("--only", default="lab,lab-nodeflate,terminado,wetty,raw")
    parser.add_argument("--sections", default="echo,throughput,ctrl_c,stalled,concurrent")
    parser.add_argument("--quick", action="store_true", help="few samples, 10 sessions (a smoke test)")
    parser.add_argument("--profile", metavar="DIR",
                        help="record the lab's uvicorn with py-spy in each section, stacks into DIR")
    parser.add_argument("--variant", metavar="KEY=VALUE,...",
                        help="also measure the lab changed in memory (bench/labvariant.py), an "
                             "experiment: keys high, low, burst (flow-control bytes; low must be "
                             ">= the client's 64 KiB ack batch), skip_db_hop=1, gc_freeze=1, gc_log=1")
    parser.add_argument("--dump-samples", metavar="DIR",
                        help="write every concurrent echo sample (sent at, latency, session) to DIR")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs) for debugging")
    parser.add_argument("--save", action="store_true", help="also write bench/results/terminal-<date>.json")
    args = parser.parse_args()
    if args.serve_terminado:
        serve_terminado(args.serve_terminado)
        return 0
    if args.quick:
        args.sessions, args.echo_samples, args.warmup = 10, 60, 10
        args.throughput_reps, args.ctrl_c_tries, args.concurrent_seconds = 1, 5, 5
    only = args.only.split(",")

    started = time.time()
    results: dict = {"benchmark": "terminal", "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
                     "command": " ".join([".venv/bin/python", "bench/terminal.py", *sys.argv[1:]]),
                     "machine": machine(), "targets": TARGETS, "servers": {},
                     "notes": [
                         "echo: one key sent, timed until its echo arrives, then erased (DEL); 3 ms "
                         "between keys; the client is Python (websockets 15 on uvloop) in another "
                         "process, so every figure includes its own cost, the same for all peers",
                         "throughput: bytes on the wire (seq's 14.9 MB plus the PTY's \\r per line "
                         "= 16.9 MB) from Enter to the marker, MB = 10^6 bytes; raw is a blocking "
                         "64 KiB read loop in this process",
                         "ctrl_c: `yes`, 256 KiB read, then \\x03 sent and timed until the prompt "
                         "arrives; bytes_after_ctrl_c is what was still queued ahead of it",
                         "stalled_client: `yes` while reading 1 MiB, then the client stops reading its "
                         "socket (transport paused: no reads, no acks) and the server's RSS is sampled "
                         "every 0.25 s for 10 s",
                         "the lab's shell runs jailed (bubblewrap, own namespaces, uid != 0); the peers "
                         "run the same bash and rc file unjailed as root",
                         "CPU is shared with other work on this machine (see loadavg in each section)"]}
    env = LabEnv("term", {"TERMINAL_MAX_PER_LEARNER": "4"})
    lab = None
    rc = 1
    try:
        # The peers' shell: same rc file, same kubectl, a private home, the lab's cluster.
        home = env.tmp / "peer-home"
        home.mkdir()
        from_toolchain = Path(os.environ.get("TOOLCHAIN_BIN", Path.home() / ".cache/k8s-lab/toolchain/bin"))
        peer_env = {"PATH": f"{from_toolchain}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home),
                    "TERM": "xterm-256color", "LANG": "C.UTF-8", "SHELL": "/bin/bash",
                    "USER": "root", "LOGNAME": "root"}
        servers: dict = {}
        env.start_redis()
        log("setting up the lab (database, a kwok cluster, learners)")
        env.django()
        # learners: 0 main, 1 stalled, 2 lab-nodeflate, 3 and 4 lab-variant, 5... concurrent
        lab = Lab(env, 5 + args.sessions * (2 if args.variant else 1))
        results["servers"]["lab"] = lab.setup()
        results["servers"]["lab"]["pid"] = lab.web.pid
        results["servers"]["lab"]["argv"] = " ".join(lab.web.argv[1:])
        peer_env["KUBECONFIG"] = lab.kubeconfig
        if "lab" in only:
            servers["lab"] = (lambda i: lab.client(i), lab.web.pid)
        if "lab-nodeflate" in only:
            # its own learner (a second socket on the lab's session would hold back its acks)
            servers["lab-nodeflate"] = (lambda i: lab.client(2, deflate=False), lab.web.pid)
            results["servers"]["lab-nodeflate"] = {"note": "same server and shell as lab"}

        if args.variant:
            changes = dict(item.split("=", 1) for item in args.variant.split(","))
            port = lab.start_variant(changes)
            base = 5 + args.sessions  # its own learners for the concurrent test

            def variant_client(i, p=port):
                return lab.client(3 + i if i < 2 else base + i - 5, port=p)
            servers["lab-variant"] = (variant_client, lab.variant.pid)
            results["servers"]["lab-variant"] = {
                "pid": lab.variant.pid, "changes": changes,
                "note": "an experiment, not the product: the lab's app changed in memory by "
                        "bench/labvariant.py; the client offers deflate, like lab"}

        if "terminado" in only:
            port = free_port()
            svc = env.start("terminado", [sys.executable, str(Path(__file__).resolve()),
                                          "--serve-terminado", str(port)], env=peer_env, cwd=home)
            wait_for(lambda: _tcp_answers(port), 30, "terminado", svc)
            import terminado
            results["servers"]["terminado"] = {"version": terminado.__version__, "pid": svc.pid}
            servers["terminado"] = (lambda i, p=port: TerminadoClient(p), svc.pid)

        if "wetty" in only:
            cache = Path(os.environ.get("K8S_LAB_CACHE", Path.home() / ".cache/k8s-lab")) / "bench"
            main_js, note = install_wetty(cache)
            if main_js is None:
                results["servers"]["wetty"] = {"error": note}
            else:
                port = free_port()
                svc = env.start("wetty", ["node", str(main_js), "--host", "127.0.0.1", "--port",
                                          str(port), "--command", " ".join(SHELL),
                                          "--log-level", "warn"],
                                env={**peer_env, "PATH": peer_env["PATH"]}, cwd=home)
                wait_for(lambda: _http_answers(port), 60, "wetty", svc)
                results["servers"]["wetty"] = {
                    "version": WETTY_VERSION, "pid": svc.pid, "install": note,
                    "how": "runs the command locally (no ssh): wetty does so when it runs as root "
                           "and --ssh-host is localhost (the default); it spawns "
                           "`/usr/bin/env -S <command>` on a node-pty, 80x30 until the client's "
                           "resize; output is batched for 2 ms (tinybuffer) before each emit"}
                servers["wetty"] = (lambda i, p=port: WettyClient(p), svc.pid)

        if "raw" in only:
            servers["raw"] = (lambda i: RawClient({**peer_env}), None)
            results["servers"]["raw"] = {"note": "this process reads the PTY; no server"}

        try:
            import uvloop
            runner = uvloop.run
            results["client_loop"] = "uvloop"
        except ImportError:
            runner = asyncio.run
            results["client_loop"] = "asyncio"
        runner(asyncio.wait_for(measure(servers, args, peer_env, results), 3600))
        results["verdicts"] = verdicts(results)
        rc = 0
    except Exception as exc:  # noqa: BLE001 - the document still says what happened
        results["error"] = f"{type(exc).__name__}: {exc}"
        results["trace"] = traceback.format_exc()[-3000:]
        log(results["trace"])
    finally:
        for service in env.services:
            service.remember_children()
        with contextlib.suppress(Exception):
            if lab:
                lab.teardown()
        if "lab" in results["servers"] and lab is not None and getattr(lab, "web", None):
            if any("error" in v for v in results["servers"].values() if isinstance(v, dict)):
                results["servers"]["lab"]["uvicorn_log_tail"] = lab.web.output(1500)
        env.stop_all()
        if args.keep:
            log(f"kept {env.tmp}")
            kill_pids(pids_matching(str(env.tmp)))
        else:
            env.remove()
    finish("terminal", results, started, args.save)
    return rc


if __name__ == "__main__":
    sys.exit(main())
