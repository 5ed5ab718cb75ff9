"""The terminal benchmark's measurements, each on one open client: key echo, throughput, Ctrl-C
in a flood, a stalled client's server memory, many typists at once; py-spy on the lab's server."""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

from bench.common import log, pct, summary_ms
from bench.procfs import cpu_seconds, tree_rss_kib
from bench.terminal.clients import PROMPT, Client, now, ready

DONE_CMD, DONE = b"echo __done_$((6*7))", b"__done_42"
SEQ_CMD = b"seq 1 2000000"


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


