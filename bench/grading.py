"""Grading speed: how long one pass over a lesson's checks takes, beside a Killercoda-style
verify script doing the same checks with kubectl; and how long a change in the learner's cluster
takes to show on the page (through the live grading WebSocket of a real uvicorn).

    .venv/bin/python bench/grading.py [--passes 60] [--trials 10]

Prints one JSON document on stdout (progress on stderr) and saves it in bench/results/.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import LabEnv, finish, log, login_session_key, machine, pct, summary_ms  # noqa: E402
from bench.processes import free_port, start_web  # noqa: E402

COURSE = "kubernetes-architecture"
LESSONS = ["control-plane", "object-model", "kubectl", "namespaces"]
# The peer: what a verify.sh per check does on Killercoda or Instruqt, for deploy-my-app.
VERIFY_SH = r"""
set -e
k() { kubectl -n production get deployment my-app -o jsonpath="$1"; }
kubectl get namespace production >/dev/null
[ "$(k '{.spec.replicas}')" = 3 ]
[ "$(k '{.spec.selector.matchLabels.app}')" = my-app ]
[ "$(k '{.spec.template.metadata.labels.app}')" = my-app ]
[ "$(k '{.spec.template.spec.containers[0].name}')" = my-app ]
[ "$(k '{.spec.template.spec.containers[0].image}')" = myrepo/my-app:1.0 ]
[ "$(k '{.spec.template.spec.containers[0].ports[0].containerPort}')" = 3000 ]
[ "$(k '{.spec.template.spec.containers[0].resources.requests.memory}')" = 64Mi ]
[ "$(k '{.spec.template.spec.containers[0].resources.requests.cpu}')" = 250m ]
[ "$(k '{.spec.template.spec.containers[0].resources.limits.memory}')" = 128Mi ]
[ "$(k '{.spec.template.spec.containers[0].resources.limits.cpu}')" = 500m ]
[ "$(k '{.status.readyReplicas}')" -ge 3 ]
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passes", type=int, default=60)
    parser.add_argument("--trials", type=int, default=10)
    args = parser.parse_args()
    started = time.time()
    env = LabEnv("grading", {"SANDBOX_POOL_API": "0"})
    doc = {"benchmark": "grading", "command": "bench/grading.py " + " ".join(sys.argv[1:]),
           "machine": machine()}
    try:
        env.start_redis()
        env.django()
        doc.update(run(env, args))
    finally:
        env.stop_all()
        from sandboxes.backends import get_backend
        try:
            get_backend("api").delete("k8slab-bench-grading")
        except Exception:  # noqa: BLE001
            pass
        env.remove()
    finish("grading", doc, started, save_it=True)


def run(env: LabEnv, args) -> dict:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from courses.catalog import get_course
    from courses.grading.engine import grade_lesson
    from sandboxes import lifecycle
    from sandboxes.backends import get_backend
    from sandboxes.models import Sandbox, State

    log("creating a cluster")
    kubeconfig_src = get_backend("api").create("k8slab-bench-grading", lambda *a: None)
    user = get_user_model().objects.create_user("bench-learner", password="bench-password-123")
    sandbox = Sandbox.objects.create(owner=user, tier="api", backend="kwok", state=State.READY,
                                     host=settings.LAB_HOST, cluster="k8slab-bench-grading",
                                     ready_at=timezone.now())
    sandbox.kubeconfig = str(lifecycle.install_kubeconfig(sandbox, kubeconfig_src))
    sandbox.save()
    kubectl = str(Path(settings.TOOLCHAIN_BIN) / "kubectl")
    course = get_course(COURSE)
    manifest = course.lesson("object-model").exercises[0].solution["commands"]
    log("deploying my-app (the object-model solution)")
    subprocess.run(["bash", "-c", manifest], env={**os.environ, "KUBECONFIG": sandbox.kubeconfig,
                   "PATH": f"{settings.TOOLCHAIN_BIN}:/usr/bin:/bin"}, cwd=env.tmp, check=True,
                   capture_output=True, timeout=120)
    subprocess.run([kubectl, "--kubeconfig", sandbox.kubeconfig, "-n", "production", "rollout",
                    "status", "deployment/my-app", "--timeout=120s"], check=True, capture_output=True)

    result = {"lesson_pass": {}, "peer_verify_sh": {}}
    for slug in LESSONS:
        lesson = course.lesson(slug)
        grade_lesson(course, lesson, user, sandbox=sandbox, record=False)  # warm the client
        samples = []
        for _ in range(args.passes):
            started = time.perf_counter()
            grade_lesson(course, lesson, user, sandbox=sandbox, record=False)
            samples.append(time.perf_counter() - started)
        checks = sum(len(e.checks) for e in lesson.exercises)
        result["lesson_pass"][slug] = {"checks": checks, **summary_ms(samples),
                                       "p95": round(pct([x * 1000 for x in samples], 95), 3)}
        log(f"{slug}: {result['lesson_pass'][slug]}")

    samples = []
    for _ in range(max(10, args.passes // 3)):
        started = time.perf_counter()
        subprocess.run(["bash", "-c", VERIFY_SH], env={"KUBECONFIG": sandbox.kubeconfig,
                       "PATH": f"{settings.TOOLCHAIN_BIN}:/usr/bin:/bin"}, check=True,
                       capture_output=True, timeout=60)
        samples.append(time.perf_counter() - started)
    result["peer_verify_sh"] = {"what": "deploy-my-app's 12 field checks as a bash verify script "
                                        "with one kubectl call each (Killercoda/Instruqt style)",
                                **summary_ms(samples)}
    ours = result["lesson_pass"]["object-model"]
    result["peer_verify_sh"]["ratio_to_lab_p50"] = round(result["peer_verify_sh"]["p50"] / ours["p50"], 1)
    result["change_to_status"] = asyncio.run(change_to_status(env, sandbox, user, kubectl, args.trials))
    result["targets"] = {
        "lesson_pass_p95_ms<=150": all(v["p95"] <= 150 for v in result["lesson_pass"].values()),
        "change_to_status_p95_s<=2": result["change_to_status"]["p95_s"] is not None
        and result["change_to_status"]["p95_s"] <= 2,
    }
    return result


async def change_to_status(env: LabEnv, sandbox, user, kubectl: str, trials: int) -> dict:
    """Scale my-app to 5 and back; time from the kubectl command returning until the page's
    live status shows scale-my-app passing (and failing again)."""
    import websockets
    from asgiref.sync import sync_to_async

    port = free_port()
    start_web(env.start, port)

    key = await sync_to_async(login_session_key)(user)
    url = f"ws://127.0.0.1:{port}/ws/courses/{COURSE}/kubectl/grading/"
    delays, apply_seconds = [], []
    async with websockets.connect(url, origin=f"http://127.0.0.1:{port}",
                                  additional_headers={"Cookie": f"sessionid={key}"}) as ws:
        async def until(passed: bool, timeout=60.0):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                status = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
                for ex in status.get("exercises", []):
                    if ex["slug"] == "scale-my-app" and ex["passed"] == passed:
                        return time.monotonic()
            raise TimeoutError

        await until(False)
        for replicas, passed in [(5, True), (3, False)] * trials:
            started = time.monotonic()
            await asyncio.to_thread(subprocess.run, [kubectl, "--kubeconfig", sandbox.kubeconfig, "-n",
                                    "production", "scale", "deployment/my-app", f"--replicas={replicas}"],
                                    check=True, capture_output=True)
            returned = time.monotonic()
            shown = await until(passed)
            if passed:
                delays.append(shown - returned)
                apply_seconds.append(returned - started)
    delays_sorted = sorted(delays)
    p95 = delays_sorted[min(len(delays_sorted) - 1, int(0.95 * len(delays_sorted)))] if delays else None
    return {"what": "kubectl scale --replicas=5 returns -> the page's status shows scale-my-app "
                    "passing (includes kwok making the 2 new Pods ready)",
            "trials": len(delays), "p50_s": round(sorted(delays)[len(delays) // 2], 3) if delays else None,
            "p95_s": round(p95, 3) if p95 is not None else None,
            "max_s": round(max(delays), 3) if delays else None,
            "kubectl_scale_p50_s": round(sorted(apply_seconds)[len(apply_seconds) // 2], 3) if apply_seconds else None}


if __name__ == "__main__":
    main()
