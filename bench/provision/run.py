"""The provisioning benchmark's command line and its run: the phases asked for, in order, then the
verdicts against the targets; one JSON document on stdout."""
from __future__ import annotations

import argparse
import sys
import time
import traceback

from bench.common import finish, log, machine
from bench.procfs import kill_pids, pids_matching
from bench.provision.lab import Bench

TARGETS = {"warm_claim_p95_s": 1.0, "cold_api_p50_s": 10.0, "concurrent_api_sandboxes": 30}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/provision.py",
        description="Provisioning, measured through the real path; prints one JSON document on "
                    "stdout.")
    parser.add_argument("--cold", type=int, default=10, help="cold api starts (and as many kwokctl)")
    parser.add_argument("--warm", type=int, default=10, help="warm claims")
    parser.add_argument("--pool", type=int, default=2, help="SANDBOX_POOL_API for the warm phase")
    parser.add_argument("--capacity", type=int, default=40, help="SANDBOX_CAPACITY_API, the most tried")
    parser.add_argument("--wave", type=int, default=10, help="learners starting at once")
    parser.add_argument("--wave-timeout", type=float, default=600)
    parser.add_argument("--capacity-minutes", type=float, default=30)
    parser.add_argument("--min-available-gib", type=float, default=4.0)
    parser.add_argument("--concurrency", type=int, default=4, help="Celery worker processes")
    parser.add_argument("--full", choices=("auto", "no"), default="auto",
                        help="measure the kind tier when it is available")
    parser.add_argument("--full-cold", type=int, default=5)
    parser.add_argument("--full-warm", type=int, default=3)
    parser.add_argument("--full-capacity", type=int, default=6)
    parser.add_argument("--phases", default="cold,warm,capacity,full")
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args(argv)
    phases = args.phases.split(",")

    started = time.time()
    results: dict = {"benchmark": "provision", "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
                     "command": " ".join([".venv/bin/python", "bench/provision.py", *sys.argv[1:]]),
                     "machine": machine(), "targets": TARGETS}
    bench = Bench(args)
    rc = 1
    try:
        bench.env.start_redis()
        bench.env.django()
        results["settings"] = {"worker_concurrency": args.concurrency,
                               "SANDBOX_CAPACITY_API": args.capacity, "warm_pool": args.pool}
        if "cold" in phases:
            log("cold starts")
            results["cold"] = bench.cold()
        if "warm" in phases:
            log("warm claims")
            results["warm"] = bench.warm()
        if "capacity" in phases:
            log("capacity")
            results["capacity"] = bench.capacity()
        if "full" in phases:
            ok, why = bench.full_available()
            if ok:
                log(f"full tier: {why}")
                results["full"] = {"available": why, **bench.full()}
            else:
                results["full"] = {"skipped": why}
        cold, warm, cap = results.get("cold"), results.get("warm"), results.get("capacity")
        verdict = {}
        if cold and cold["lab_ready_s"].get("p50") is not None:
            verdict["cold_api_p50_s"] = {"value": cold["lab_ready_s"]["p50"],
                                         "target": TARGETS["cold_api_p50_s"],
                                         "met": cold["lab_ready_s"]["p50"] <= TARGETS["cold_api_p50_s"]}
        if warm and warm["claim_s"].get("p95") is not None:
            verdict["warm_claim_p95_s"] = {"value": warm["claim_s"]["p95"],
                                           "target": TARGETS["warm_claim_p95_s"],
                                           "met": warm["claim_s"]["p95"] <= TARGETS["warm_claim_p95_s"]}
        if cold and warm and warm["claim_s"].get("p50"):
            results["cold_over_warm_p50"] = round(cold["lab_ready_s"]["p50"] / warm["claim_s"]["p50"], 1)
        if cap:
            verdict["concurrent_api_sandboxes"] = {
                "value": cap["most_held_all_answering"], "target": TARGETS["concurrent_api_sandboxes"],
                "met": cap["most_held_all_answering"] >= TARGETS["concurrent_api_sandboxes"]}
        results["verdicts"] = verdict
        rc = 0
    except Exception as exc:  # noqa: BLE001
        results["error"] = f"{type(exc).__name__}: {exc}"
        results["trace"] = traceback.format_exc()[-3000:]
        log(results["trace"])
        if bench.worker:
            results["worker_log_tail"] = bench.worker.output(2000)
    finally:
        bench.cleanup()
        bench.env.stop_all()
        bench.env.remove()
        kill_pids(pids_matching(str(bench.env.tmp)))
    finish("provision", results, started, args.save)
    return rc
