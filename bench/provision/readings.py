"""Readings for the provisioning benchmark: a cluster's memory and CPU from /proc, a kind node's
from docker stats, the median time of each provisioning step, and summaries in seconds."""
from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path

from bench.common import pct
from bench.procfs import cpu_seconds, pids_matching, pss_kib, rss_kib

now = time.perf_counter


def cluster_memory(cluster_dir: Path) -> dict:
    """Every process whose command line names this cluster's work dir."""
    needle = str(cluster_dir) + "/"
    pids = pids_matching(needle)
    names = {}
    rss = pss = 0
    for pid in pids:
        try:
            exe = Path(open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[0].decode()).name
        except OSError:
            continue
        r, p = rss_kib(pid), pss_kib(pid)
        rss += r
        pss += p
        names[exe] = names.get(exe, 0) + round(r / 1024, 1)
    return {"rss_mib": round(rss / 1024, 1), "pss_mib": round(pss / 1024, 1),
            "processes": len(pids), "rss_mib_by_process": names}


def processes_cpu(needle: str, seconds: float = 10.0) -> dict:
    """CPU used by every process whose command line contains needle, over seconds: in cores."""
    pids = pids_matching(needle)
    before = {pid: cpu_seconds(pid) for pid in pids}
    time.sleep(seconds)
    used = sum(max(0.0, cpu_seconds(pid) - cpu) for pid, cpu in before.items())
    return {"cores": round(used / seconds, 2), "processes": len(pids), "seconds": seconds}


def breakdown(runs: list[dict]) -> dict:
    """Median seconds spent in each provisioning step the worker reported (until the next)."""
    spans: dict[str, list[float]] = {}
    for run in runs:
        steps = run.get("steps") or []
        for (t, step), (t_next, _) in zip(steps, steps[1:]):
            spans.setdefault(step, []).append(t_next - t)
    return {step: round(pct(values, 50), 2) for step, values in spans.items()}


def stats_s(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50": round(pct(values, 50), 3), "p95": round(pct(values, 95), 3),
            "min": round(min(values), 3), "max": round(max(values), 3)}


def kind_memory(cluster: str) -> dict:
    """Memory of a kind cluster: its node container's cgroup usage as Docker reports it."""
    name = f"{cluster}-control-plane"
    try:
        out = subprocess.run(["docker", "stats", "--no-stream", "--format", "{{.MemUsage}}", name],
                             capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return {"error": str(exc)}
    mib = None
    with contextlib.suppress(ValueError, IndexError):
        used = out.split("/")[0].strip()
        units = {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024, "B": 1 / 2 ** 20}
        for unit, factor in units.items():
            if used.endswith(unit):
                mib = round(float(used[:-len(unit)]) * factor, 1)
                break
    return {"container": name, "docker_stats_mem_usage": out, "mib": mib}
