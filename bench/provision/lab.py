"""The provisioning benchmark's lab side: a private lab with its own worker, learners, and the
api tier's phases (cold starts beside plain kwokctl, warm claims, capacity); clean-up of all."""
from __future__ import annotations

import concurrent.futures
import contextlib
import os
import subprocess
import time
from pathlib import Path

from bench.common import LabEnv, load, log
from bench.processes import start_worker, wait_for
from bench.procfs import mem_available_gib
from bench.provision.full import FullTierPhases
from bench.provision.readings import breakdown, cluster_memory, now, processes_cpu, stats_s


class Bench(FullTierPhases):
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
        from django.conf import settings

        from sandboxes.backends import get_backend
        from sandboxes.backends.kubeapi import api_client, readyz
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
