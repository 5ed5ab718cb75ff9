"""The terminal benchmark's command line and its run: start the servers side by side, measure
each section over all of them (interleaved where load could differ), then the verdicts."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
import traceback
from pathlib import Path

from bench.common import LabEnv, finish, load, log, pct
from bench.procfs import kill_pids, pids_matching
from bench.terminal.clients import ready
from bench.terminal.measurements import Profiler, concurrent, ctrl_c, echo, stalled_memory, throughput
from bench.terminal.peers import Lab, learners, peer_environment, serve_terminado, start_servers
from bench.terminal.report import new_document, verdicts


def arguments(argv=None):
    parser = argparse.ArgumentParser(
        prog="bench/terminal.py",
        description="The web terminal, measured beside its peers in one run; prints one JSON "
                    "document on stdout.")
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
    args = parser.parse_args(argv)
    if args.quick:
        args.sessions, args.echo_samples, args.warmup = 10, 60, 10
        args.throughput_reps, args.ctrl_c_tries, args.concurrent_seconds = 1, 5, 5
    return args


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



def main(argv=None) -> int:
    args = arguments(argv)
    if args.serve_terminado:
        serve_terminado(args.serve_terminado)
        return 0
    started = time.time()
    results = new_document()
    env = LabEnv("term", {"TERMINAL_MAX_PER_LEARNER": "4"})
    lab = None
    rc = 1
    try:
        peer_env, home = peer_environment(env)
        env.start_redis()
        log("setting up the lab (database, a kwok cluster, learners)")
        env.django()
        lab = Lab(env, learners(args))
        servers = start_servers(env, lab, args, results, peer_env, home)
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
