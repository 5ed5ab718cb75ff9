#!/usr/bin/env python
"""Provisioning, measured through the real path; prints one JSON document on stdout.

    .venv/bin/python bench/provision.py [--cold 10] [--warm 10] [--capacity 40] [--save]

Everything runs in a private environment: its own data dir in /tmp (LAB_DATA_DIR), Redis, Celery
queue, channel prefix and Celery worker (4 processes, as `make run` and docker compose start it).
  cold      lifecycle.start(learner) -> provision task -> worker -> kwokctl -> /readyz -> node
            worker-1 Ready -> default service account -> state ready; timed from the call to the
            state change (the database is polled every 20 ms). Interleaved with the peer: plain
            `kwokctl create cluster` with the backend's own configuration file, timed to its exit
            and to the API server's /readyz.
  warm      the worker keeps a pool (SANDBOX_POOL_API in its environment); the time
            lifecycle.start takes to return a sandbox that is already ready.
  memory    RSS (and PSS, which counts shared pages once) of every process of one cluster: etcd,
            kube-apiserver, kube-controller-manager, kube-scheduler, kwok; found by the cluster's
            work dir in /proc/*/cmdline.
  capacity  waves of learners start at once (SANDBOX_CAPACITY_API=--capacity) until all of them are
            ready and each cluster answers `kubectl get nodes`; stops at --capacity, when
            MemAvailable would fall under --min-available-gib, or at the first wave that fails.
  full      the kind tier, when Docker answers and the node image is present (see --full).
The worker's reconciler runs at its start-up and deletes kind clusters named k8slab-* that its
database does not know, on the whole Docker host: so the api phases give the worker a `docker`
that fails (a stub first on TOOLCHAIN_BIN), and the full phase is skipped when kind clusters of
someone else carry that prefix.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import LabEnv, finish, load, log, machine, pct  # noqa: E402
from bench.processes import WaitFailed, start_worker, wait_for  # noqa: E402
from bench.procfs import (cpu_seconds, kill_pids, mem_available_gib, pids_matching,  # noqa: E402
                          pss_kib, rss_kib)

now = time.perf_counter
TARGETS = {"warm_claim_p95_s": 1.0, "cold_api_p50_s": 10.0, "concurrent_api_sandboxes": 30}


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


class Bench:
    def __init__(self, args):
        self.args = args
        tiers = "api,full" if args.full != "no" else "api"
        self.env = LabEnv("prov", {
            "SANDBOX_POOL_API": "0", "SANDBOX_CAPACITY_API": str(args.capacity),
            "SANDBOX_POOL_FULL": "0", "SANDBOX_CAPACITY_FULL": str(args.full_capacity),
            "LAB_TIERS": tiers, "SANDBOX_MARKER_TTL": "10", "SANDBOX_CREATE_TIMEOUT_FULL": "300"})
        self.real_bin = Path(os.environ.get(
            "TOOLCHAIN_BIN", Path(os.environ.get("K8S_LAB_CACHE", Path.home() / ".cache/k8s-lab"))
            / "toolchain" / "bin"))
        # The worker's toolchain: the real binaries, plus a docker that always fails (isolation).
        self.isolated_bin = self.env.tmp / "toolbin"
        self.isolated_bin.mkdir()
        for binary in self.real_bin.iterdir():
            (self.isolated_bin / binary.name).symlink_to(binary)
        stub = self.isolated_bin / "docker"
        stub.write_text("#!/bin/sh\necho 'docker is disabled for this benchmark worker' >&2\nexit 1\n")
        stub.chmod(0o755)
        os.environ["TOOLCHAIN_BIN"] = str(self.isolated_bin)
        self.worker = None
        self.users = 0

    # Processes -----------------------------------------------------------------------------
    def start_worker(self, **env):
        if self.worker:
            self.worker.stop(60)
            self.env.services.remove(self.worker)
        self.worker = None  # until the new one answers: a failed start leaves no stopped handle
        self.worker = start_worker(self.env.start, f"bench-prov-{os.getpid()}@%h",
                                   self.args.concurrency, {k: str(v) for k, v in env.items()}, 90)
        time.sleep(3)  # its start-up jobs (reconcile, refill, dispatch) run first

    def user(self):
        from django.contrib.auth import get_user_model
        self.users += 1
        return get_user_model().objects.create_user(f"bench{self.users}")

    @staticmethod
    def wait_state(sandbox_id, states, timeout: float, interval=0.02, steps: list | None = None):
        """Poll the row until its state is one of states; steps, if given, receives
        (seconds since the call, step) each time the worker reports a new provisioning step."""
        from sandboxes.models import Sandbox
        t0 = now()
        deadline = t0 + timeout
        last = None
        while now() < deadline:
            sandbox = Sandbox.objects.get(pk=sandbox_id)
            if steps is not None and sandbox.step != last:
                last = sandbox.step
                steps.append((round(now() - t0, 2), sandbox.step or sandbox.state))
            if sandbox.state in states:
                return sandbox
            time.sleep(interval)
        raise TimeoutError(f"sandbox {sandbox_id} not in {states} after {timeout}s "
                           f"(state {Sandbox.objects.get(pk=sandbox_id).state})")

    def stop_and_wait(self, sandbox, timeout=120):
        from sandboxes import lifecycle
        from sandboxes.models import Sandbox, State
        lifecycle.stop(Sandbox.objects.get(pk=sandbox.pk), reason="benchmark")
        return self.wait_state(sandbox.pk, (State.DELETED, State.FAILED), timeout, 0.2)

    # Peer: plain kwokctl ---------------------------------------------------------------------
    def raw_kwokctl(self, i: int) -> dict:
        from sandboxes.backends import get_backend
        from sandboxes.backends.kubeapi import api_client, readyz
        from django.conf import settings
        from sandboxes.backends.kwok import _host_lock
        backend = get_backend("api")
        workdir = self.env.tmp / "raw-kwok"
        name = f"raw-{i}"
        env = {**backend._env(), "KWOK_WORKDIR": str(workdir)}
        kubeconfig = workdir / "clusters" / name / "kubeconfig.yaml"
        kwokctl = self.real_bin / "kwokctl"
        # The same host-wide lock the backend takes (other labs and test runs on this machine
        # create clusters too); the time waiting for it is reported apart, not counted.
        t_lock = now()
        with _host_lock(Path(settings.LAB_CACHE) / "locks" / "kwokctl-create.lock",
                        time.monotonic() + 300):
            waited = now() - t_lock
            config = backend._config_file(name)  # the backend's own configuration (and ports)
            t0 = now()
            proc = subprocess.run([str(kwokctl), "create", "cluster", "--name", name, "--config",
                                   str(config), "--kubeconfig", str(workdir / f"{name}-unused"),
                                   "--runtime", "binary", "--quiet-pull"],
                                  env=env, capture_output=True, text=True, timeout=180)
            exited = now() - t0
        config.unlink(missing_ok=True)
        out = {"exit_s": round(exited, 2), "rc": proc.returncode, "lock_wait_s": round(waited, 2)}
        if proc.returncode != 0:
            out["error"] = proc.stderr[-400:]
        else:
            client = api_client(kubeconfig)
            deadline = now() + 120
            while now() < deadline:
                with contextlib.suppress(Exception):
                    if readyz(client, timeout=2):
                        break
                time.sleep(0.02)
            out["readyz_s"] = round(now() - t0, 2)
            out["memory"] = cluster_memory(workdir / "clusters" / name)
        subprocess.run([str(kwokctl), "delete", "cluster", "--name", name, "--kubeconfig",
                        str(workdir / f"{name}-unused")], env=env, capture_output=True, timeout=120)
        return out

    # Phases ----------------------------------------------------------------------------------
    def cold(self) -> dict:
        from sandboxes import lifecycle
        from sandboxes.backends import get_backend
        from sandboxes.models import SandboxEvent, State
        self.start_worker(SANDBOX_POOL_API=0)
        backend = get_backend("api")
        lab, raw, memory, runs = [], [], [], []
        for i in range(self.args.cold):
            user = self.user()
            t0 = now()
            sandbox = lifecycle.start(user, "api")
            returned = now() - t0
            steps: list = []
            sandbox = self.wait_state(sandbox.pk, (State.READY, State.FAILED), 180, steps=steps)
            elapsed = now() - t0
            run = {"start_returned_s": round(returned, 3), "ready_s": round(elapsed, 2),
                   "state": sandbox.state, "load": load(),
                   "steps": [(round(t + returned, 2), step) for t, step in steps]}
            if sandbox.state != State.READY:
                run["failure"] = sandbox.failure[-400:]
            else:
                lab.append(elapsed)
                event = SandboxEvent.objects.filter(sandbox=sandbox, kind="ready").first()
                run["worker_create_s"] = event.detail if event else None
                run["memory"] = cluster_memory(backend.cluster_dir(sandbox.cluster))
                memory.append(run["memory"])
            self.stop_and_wait(sandbox)
            peer = self.raw_kwokctl(i)
            if "readyz_s" in peer:
                raw.append(peer)
            run["kwokctl"] = peer
            runs.append(run)
            log(f"cold {i + 1}/{self.args.cold}: lab {elapsed:.2f}s; kwokctl exit "
                f"{peer['exit_s']}s, /readyz {peer.get('readyz_s')}s")
        return {
            "lab_ready_s": stats_s(lab),
            "lab_step_median_s": breakdown([r for r in runs if r["state"] == State.READY]),
            "kwokctl_exit_s": stats_s([p["exit_s"] for p in raw]),
            "kwokctl_readyz_s": stats_s([p["readyz_s"] for p in raw]),
            "memory_at_ready": {
                "rss_mib": stats_s([m["rss_mib"] for m in memory]),
                "pss_mib": stats_s([m["pss_mib"] for m in memory]),
                "example": memory[-1] if memory else None},
            "runs": runs}

    def warm(self) -> dict:
        from sandboxes import lifecycle
        from sandboxes.models import Sandbox, State
        pool = self.args.pool
        self.start_worker(SANDBOX_POOL_API=pool)
        ready_pool = lambda: Sandbox.objects.pool("api").filter(state=State.READY).count()  # noqa: E731
        t0 = now()
        wait_for(lambda: ready_pool() >= pool, 60 + 30 * pool, f"a warm pool of {pool}")
        filled = now() - t0
        claims, runs = [], []
        for i in range(self.args.warm):
            wait_for(lambda: ready_pool() >= 1, 180, "a ready sandbox in the pool")
            user = self.user()
            t0 = now()
            sandbox = lifecycle.start(user, "api")
            elapsed = now() - t0
            ok = sandbox.state == State.READY
            runs.append({"claim_s": round(elapsed, 4), "ready": ok})
            if ok:
                claims.append(elapsed)
            self.stop_and_wait(sandbox)
            # Give the refill a moment, as learners do not all arrive in the same second.
            wait_for(lambda: ready_pool() >= pool, 180, "the pool to refill")
        return {"pool_size": pool, "pool_filled_from_empty_s": round(filled, 1),
                "claim_s": stats_s(claims), "runs": runs}

    def capacity(self) -> dict:
        from sandboxes import lifecycle
        from sandboxes.backends import get_backend
        from sandboxes.models import Sandbox, State
        from sandboxes.tools import run as run_tool
        # No pool: every sandbox here is a learner's.
        for sandbox in Sandbox.objects.active():
            self.stop_and_wait(sandbox)
        self.start_worker(SANDBOX_POOL_API=0)
        backend = get_backend("api")
        kubectl = self.real_bin / "kubectl"
        held: list = []
        waves = []
        t_start = now()
        mem0 = mem_available_gib()
        stop_reason = f"reached --capacity {self.args.capacity}"
        while len(held) < self.args.capacity:
            size = min(self.args.wave, self.args.capacity - len(held))
            per_cluster = (waves[-1]["pss_mib_per_cluster"] if waves else 350) / 1024
            if mem_available_gib() - size * per_cluster < self.args.min_available_gib:
                stop_reason = (f"memory bound: MemAvailable {mem_available_gib()} GiB minus "
                               f"{size} more clusters would fall under {self.args.min_available_gib} GiB")
                break
            if now() - t_start > self.args.capacity_minutes * 60:
                stop_reason = f"time bound: {self.args.capacity_minutes} min"
                break
            t0 = now()
            started = [lifecycle.start(self.user(), "api") for _ in range(size)]
            results = []
            for sandbox in started:
                left = max(1, self.args.wave_timeout - (now() - t0))
                try:
                    results.append(self.wait_state(sandbox.pk, (State.READY, State.FAILED), left, 0.2))
                except TimeoutError as exc:
                    results.append(exc)
            wave_s = now() - t0
            ready = [r for r in results if not isinstance(r, Exception) and r.state == State.READY]
            held.extend(ready)
            # Every cluster held so far must still answer.
            answering = 0
            for sandbox in held:
                try:
                    out = run_tool([kubectl, "--kubeconfig", sandbox.kubeconfig, "get", "nodes",
                                    "--no-headers"], timeout=30).stdout
                    answering += "worker-1" in out and " Ready" in out
                except Exception:  # noqa: BLE001 - counted as not answering
                    pass
            mems = [cluster_memory(backend.cluster_dir(s.cluster)) for s in held]
            idle_cpu = processes_cpu(str(backend.workdir / "clusters") + "/")
            wave = {"wave_size": size, "ready": len(ready), "held": len(held),
                    "answering_get_nodes": answering, "wave_seconds": round(wave_s, 1),
                    "mem_available_gib": mem_available_gib(), "load": load(),
                    "rss_mib_total": round(sum(m["rss_mib"] for m in mems), 1),
                    "pss_mib_total": round(sum(m["pss_mib"] for m in mems), 1),
                    "rss_mib_per_cluster": round(sum(m["rss_mib"] for m in mems) / max(1, len(mems)), 1),
                    "pss_mib_per_cluster": round(sum(m["pss_mib"] for m in mems) / max(1, len(mems)), 1),
                    "mem_available_drop_mib_per_cluster": round((mem0 - mem_available_gib()) * 1024
                                                                / max(1, len(held))),
                    "clusters_cpu_cores_10s_after_wave": idle_cpu["cores"],
                    "cpu_cores_per_cluster": round(idle_cpu["cores"] / max(1, len(held)), 3)}
            failed = [r for r in results if isinstance(r, Exception) or r.state != State.READY]
            if failed:
                wave["failures"] = [str(r)[:300] if isinstance(r, Exception) else r.failure[-300:]
                                    for r in failed][:5]
            waves.append(wave)
            log(f"capacity: {len(held)} held, {answering} answering, wave {wave_s:.0f}s, "
                f"MemAvailable {wave['mem_available_gib']} GiB, load {wave['load']}")
            if failed or answering < len(held):
                stop_reason = "a wave failed or a cluster stopped answering"
                break
        most = max((w["answering_get_nodes"] for w in waves if w["answering_get_nodes"] == w["held"]),
                   default=0)
        # Clean up: ask the worker to delete them all, then wait.
        t0 = now()
        for sandbox in held:
            lifecycle.stop(Sandbox.objects.get(pk=sandbox.pk), reason="benchmark")
        for sandbox in held:
            with contextlib.suppress(TimeoutError):
                self.wait_state(sandbox.pk, (State.DELETED, State.FAILED), 300, 0.5)
        return {"capacity_setting": self.args.capacity, "wave": self.args.wave,
                "mem_available_gib_before": mem0,
                "most_held_all_answering": most, "stopped_because": stop_reason, "waves": waves,
                "delete_all_seconds": round(now() - t0, 1)}

    # The full tier ---------------------------------------------------------------------------
    def full_available(self) -> tuple[bool, str]:
        if self.args.full == "no":
            return False, "--full no"
        from sandboxes.backends.kind import KindBackend, node_image
        os.environ["TOOLCHAIN_BIN"] = str(self.real_bin)
        from django.conf import settings
        settings.TOOLCHAIN_BIN = self.real_bin
        try:
            state = KindBackend().health()
        finally:
            os.environ["TOOLCHAIN_BIN"] = str(self.isolated_bin)
            settings.TOOLCHAIN_BIN = self.isolated_bin
        if not state.get("ok"):
            return False, f"kind tier not available: {state.get('error')}"
        try:
            names = subprocess.run([str(self.real_bin / "kind"), "get", "clusters"],
                                   capture_output=True, text=True, timeout=30).stdout.split()
        except (OSError, subprocess.SubprocessError) as exc:
            return False, f"kind get clusters failed: {exc}"
        others = [n for n in names if n.startswith("k8slab-")]
        if others:
            return False, (f"kind clusters of someone else carry the lab's prefix ({', '.join(others)}):"
                           " a benchmark worker's start-up reconcile would delete them")
        return True, f"Docker {state.get('docker')}, image {node_image()}"

    def full(self) -> dict:
        """The kind tier through the lab (worker, KindBackend), beside plain `kind create
        cluster` with the backend's configuration and image under names no lab reconciler
        claims (bench-kind-*)."""
        from django.conf import settings
        from sandboxes import lifecycle
        from sandboxes.models import Sandbox, State
        # The worker needs the real docker now.
        os.environ["TOOLCHAIN_BIN"] = str(self.real_bin)
        settings.TOOLCHAIN_BIN = self.real_bin
        out: dict = {}
        self.start_worker(SANDBOX_POOL_API=0, SANDBOX_POOL_FULL=0)
        cold, runs, raw = [], [], []
        for i in range(self.args.full_cold):
            user = self.user()
            t0 = now()
            sandbox = lifecycle.start(user, "full")
            steps: list = []
            run = {}
            try:
                sandbox = self.wait_kind(sandbox.pk, 900, steps)
            except ClusterTaken as exc:
                run["taken"] = str(exc)
                sandbox = Sandbox.objects.get(pk=sandbox.pk)
            elapsed = now() - t0
            run.update({"ready_s": round(elapsed, 1), "state": sandbox.state, "load": load(),
                        "steps": steps})
            if sandbox.state == State.READY and "taken" not in run:
                cold.append(elapsed)
                run["memory"] = kind_memory(sandbox.cluster)
            elif sandbox.failure:
                run["failure"] = sandbox.failure[-500:]
            runs.append(run)
            log(f"full cold {i + 1}: lab {run['ready_s']}s {run['state']} {run.get('taken', '')}")
            with contextlib.suppress(TimeoutError):
                self.stop_and_wait(sandbox, 300)
            peer = raw_kind(f"bench-kind-{os.getpid()}-{i}", self.real_bin, self.env.tmp)
            raw.append(peer)
            log(f"full cold {i + 1}: kind create {peer.get('create_s')}s")
        out["cold_ready_s"] = stats_s(cold)
        out["cold_runs"] = runs
        out["lab_step_median_s"] = breakdown([r for r in runs if r["state"] == State.READY
                                              and "taken" not in r])
        good = [p for p in raw if "create_s" in p]
        out["kind_create_s"] = stats_s([p["create_s"] for p in good])
        out["kind_memory_mib"] = stats_s([p["memory"]["mib"] for p in good
                                          if p.get("memory", {}).get("mib")])
        out["kind_runs"] = raw
        # Warm: a pool of one kind cluster.
        if self.args.full_warm:
            self.start_worker(SANDBOX_POOL_API=0, SANDBOX_POOL_FULL=1)
            ready_pool = lambda: Sandbox.objects.pool("full").filter(state=State.READY).count()  # noqa: E731
            claims, notes = [], []
            for i in range(self.args.full_warm):
                try:
                    wait_for(lambda: ready_pool() >= 1, 600, "a ready kind cluster in the pool",
                             interval=1)
                except WaitFailed as exc:
                    notes.append(str(exc)[:300])
                    break
                t0 = now()
                sandbox = lifecycle.start(self.user(), "full")
                elapsed = now() - t0
                if sandbox.state == State.READY:
                    claims.append(elapsed)
                self.stop_and_wait(sandbox, 300)
            for sandbox in Sandbox.objects.filter(tier="full").active():
                with contextlib.suppress(TimeoutError):
                    self.stop_and_wait(sandbox, 300)
            out["warm_claim_s"] = stats_s(claims)
            if notes:
                out["warm_notes"] = notes
        # Most that fit, with plain kind (names no reconciler takes): one more at a time, each
        # must be Ready and answer `kubectl get nodes`, until memory, time or a failure says stop.
        out["capacity_plain_kind"] = raw_kind_capacity(self.args, self.real_bin, self.env.tmp)
        return out

    def wait_kind(self, sandbox_id, timeout: float, steps: list):
        """wait_state for a kind sandbox, also watching its node container: one that appears and
        then vanishes while the sandbox is still provisioning was deleted by someone else."""
        from sandboxes.models import Sandbox, State
        deadline = now() + timeout
        seen = False
        t0 = now()
        last = None
        while now() < deadline:
            sandbox = Sandbox.objects.get(pk=sandbox_id)
            if sandbox.step != last:
                last = sandbox.step
                steps.append((round(now() - t0, 1), sandbox.step or sandbox.state))
            if sandbox.state in (State.READY, State.FAILED):
                return sandbox
            name = f"{sandbox.cluster}-control-plane"
            exists = bool(subprocess.run(["docker", "ps", "-aq", "--filter", f"name=^{name}$"],
                                         capture_output=True, text=True, timeout=30).stdout.strip())
            if exists:
                seen = True
            elif seen:
                events = subprocess.run(
                    ["docker", "events", "--since", f"{int(time.time() - (now() - t0) - 5)}",
                     "--until", f"{int(time.time())}", "--filter", f"container={name}",
                     "--format", "{{.Time}} {{.Action}}"],
                    capture_output=True, text=True, timeout=30).stdout.split("\n")
                raise ClusterTaken(f"{name} was removed while the lab was still creating it "
                                   f"(docker events: {[e for e in events if e and 'exec' not in e]})")
            time.sleep(1)
        raise TimeoutError(f"sandbox {sandbox_id} not ready after {timeout}s")

    # Clean-up ----------------------------------------------------------------------------------
    def cleanup(self):
        """Whatever is left: delete clusters directly (kwokctl / kind), then end what runs from
        our temp dir."""
        try:
            from sandboxes.backends import get_backend
            from sandboxes.models import CLUSTER_STATES, Sandbox
            left = list(Sandbox.objects.filter(state__in=CLUSTER_STATES))
            api = get_backend("api")
            names = set(api.list_clusters()) | {s.cluster for s in left if s.tier == "api"}
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                list(pool.map(lambda n: _quietly(api.delete, n), names))
            kind = str(self.real_bin / "kind")
            listed = subprocess.run([kind, "get", "clusters"], capture_output=True, text=True,
                                    timeout=60).stdout.split()
            for name in listed:
                if name.startswith(f"bench-kind-{os.getpid()}-"):
                    subprocess.run([kind, "delete", "cluster", "--name", name],
                                   capture_output=True, timeout=300)
            for sandbox in left:
                if sandbox.tier == "full":
                    subprocess.run([str(self.real_bin / "kind"), "delete", "cluster", "--name",
                                    sandbox.cluster], capture_output=True, timeout=180)
        except Exception as exc:  # noqa: BLE001
            log(f"cleanup: {exc}")


def _quietly(fn, *a):
    try:
        fn(*a)
    except Exception as exc:  # noqa: BLE001
        log(f"cleanup: {exc}")


class ClusterTaken(Exception):
    """Someone else deleted the cluster the lab was creating."""


def raw_kind(name: str, real_bin: Path, tmp: Path, keep=False) -> dict:
    """`kind create cluster` with the lab's kind configuration and node image, timed to the
    node Ready (kind's --wait), then its memory; deleted unless keep."""
    from sandboxes.backends.kind import kind_config, node_image
    config = tmp / f"{name}.yaml"
    config.write_text(kind_config())
    kubeconfig = tmp / f"{name}.kubeconfig"
    kind = str(real_bin / "kind")
    t0 = now()
    proc = subprocess.run([kind, "create", "cluster", "--name", name, "--image", node_image(),
                           "--config", str(config), "--kubeconfig", str(kubeconfig),
                           "--wait", "600s"], capture_output=True, text=True, timeout=900)
    out = {"name": name, "rc": proc.returncode, "load": load()}
    if proc.returncode == 0:
        out["create_s"] = round(now() - t0, 1)
        try:
            nodes = subprocess.run([str(real_bin / "kubectl"), "--kubeconfig", str(kubeconfig),
                                    "get", "nodes", "--no-headers"], capture_output=True,
                                   text=True, timeout=60).stdout
            out["get_nodes_ready"] = " Ready" in nodes
        except subprocess.SubprocessError:
            out["get_nodes_ready"] = False
        time.sleep(5)
        out["memory"] = kind_memory(name)
    else:
        out["error"] = (proc.stderr or proc.stdout)[-500:]
    if not keep:
        subprocess.run([kind, "delete", "cluster", "--name", name, "--kubeconfig", str(kubeconfig)],
                       capture_output=True, timeout=300)
    return out


def raw_kind_capacity(args, real_bin: Path, tmp: Path) -> dict:
    names, steps = [], []
    reason = f"reached --full-capacity {args.full_capacity}"
    t_start = now()
    try:
        while len(names) < args.full_capacity:
            if mem_available_gib() < args.min_available_gib + 1.5:
                reason = f"memory bound: MemAvailable {mem_available_gib()} GiB"
                break
            if now() - t_start > args.capacity_minutes * 60:
                reason = f"time bound: {args.capacity_minutes} min"
                break
            name = f"bench-kind-{os.getpid()}-cap{len(names)}"
            step = raw_kind(name, real_bin, tmp, keep=True)
            names.append(name)
            answering = 0
            for other in names:
                with contextlib.suppress(subprocess.SubprocessError):
                    answering += " Ready" in subprocess.run(
                        [str(real_bin / "kubectl"), "--kubeconfig", str(tmp / f"{other}.kubeconfig"),
                         "get", "nodes", "--no-headers"], capture_output=True, text=True,
                        timeout=60).stdout
            step.update({"n": len(names), "answering": answering,
                         "mem_available_gib": mem_available_gib()})
            steps.append(step)
            log(f"kind capacity: {len(names)} clusters, {answering} answering, "
                f"MemAvailable {step['mem_available_gib']} GiB, load {step['load']}")
            if step["rc"] != 0 or answering < len(names):
                reason = "a create failed or a cluster stopped answering"
                break
    finally:
        for name in names:
            subprocess.run([str(real_bin / "kind"), "delete", "cluster", "--name", name],
                           capture_output=True, timeout=300)
    most = max((s["n"] for s in steps if s["rc"] == 0 and s["answering"] == s["n"]), default=0)
    return {"most_held_all_answering": most, "stopped_because": reason, "steps": steps}


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
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
    args = parser.parse_args()
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


if __name__ == "__main__":
    sys.exit(main())
