"""The terminal benchmark's report: its targets, the notes on how each figure is taken, the
document's skeleton, and the verdicts (each server's figures against the targets)."""
from __future__ import annotations

import sys
import time

from bench.common import machine

TARGETS = {"echo_p99_ms": 1.5, "throughput_pct_of_raw": 90, "ctrl_c_p50_ms": 20,
           "stalled_growth_mib": 10, "concurrent_p99_ms": 20}
NOTES = [
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
    "CPU is shared with other work on this machine (see loadavg in each section)"]


def new_document() -> dict:
    """The run's document before anything is measured: what ran, where, against which targets."""
    return {"benchmark": "terminal", "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
            "command": " ".join([".venv/bin/python", "bench/terminal.py", *sys.argv[1:]]),
            "machine": machine(), "targets": TARGETS, "servers": {}, "notes": NOTES}


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

