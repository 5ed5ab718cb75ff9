"""Reading processes from /proc: a process tree, its memory and CPU, and finding and ending our
own processes by id (never by name: other people's processes share this machine)."""
from __future__ import annotations

import contextlib
import os
import signal


def children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # the command name may contain spaces and parentheses: split after the last ')'
        ppid = int(stat[stat.rfind(b")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def descendants(pid: int, kids: dict | None = None) -> list[int]:
    kids = kids if kids is not None else children_map()
    out, todo = [], [pid]
    while todo:
        for child in kids.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def proc_kib(path: str, field: str) -> int:
    """A `Field:  N kB` value from a /proc file (0 when the file or the field is missing)."""
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kib(pid: int) -> int:
    return proc_kib(f"/proc/{pid}/status", "VmRSS")


def pss_kib(pid: int) -> int:
    return proc_kib(f"/proc/{pid}/smaps_rollup", "Pss")


def mem_available_gib() -> float:
    return round(proc_kib("/proc/meminfo", "MemAvailable") / 2 ** 20, 2)


def tree_rss_kib(pid: int) -> tuple[int, int, int]:
    """(RSS of pid, RSS of pid and all its descendants, number of processes) in KiB."""
    own = rss_kib(pid)
    kids = descendants(pid)
    return own, own + sum(rss_kib(k) for k in kids), 1 + len(kids)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def pids_matching(needle: str) -> list[int]:
    """Processes whose command line contains needle (a unique temp path: our own processes)."""
    me = os.getpid()
    return [int(e) for e in os.listdir("/proc") if e.isdigit() and int(e) != me
            and needle in cmdline(int(e))]


def kill_pids(pids, sig=signal.SIGKILL) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
