"""The provisioning benchmark's full tier: kind clusters through the lab (its worker and
KindBackend), beside plain `kind create cluster` under names no lab reconciler claims."""
from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path

from bench.common import load, log
from bench.processes import WaitFailed, wait_for
from bench.procfs import mem_available_gib
from bench.provision.readings import breakdown, kind_memory, now, stats_s


class ClusterTaken(Exception):
    """Someone else deleted the cluster the lab was creating."""


class FullTierPhases:
    """The kind tier's phases of Bench (bench/provision/lab.py), which gives them args, env,
    real_bin, isolated_bin, start_worker, user and stop_and_wait."""

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
