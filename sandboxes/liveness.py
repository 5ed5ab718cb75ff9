"""Whether learners' ready clusters still answer: the reconciler restarts one whose API server
stopped answering, once, and fails it if that does not help; /healthz counts them.

One missed probe is not a death (a busy machine, a pause in the API server): a cluster counts
as silent only when it missed two probes PROBE_GAP_SECONDS apart.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

import redis
from django.conf import settings

from sandboxes import coordination, lifecycle, progress, tiers
from sandboxes.backends import BackendError, get_backend
from sandboxes.models import USABLE_STATES, Sandbox
from sandboxes.polling import TimedOut, poll

log = logging.getLogger(__name__)

PROBE_GAP_SECONDS = 3
# After restart() returns, how long the API server has to answer again (a backend's restart may
# itself wait until its cluster serves; kwokctl's does).
RESTART_WAIT_SECONDS = 30
# What the learner reads (the lab panel shows it; the operator's details are in the events).
DEAD_REASON = ("Your cluster stopped answering and could not be restarted; start a new one: "
               "your progress is kept.")
RESTARTED_STEP = "restarted"
RESTARTED_MESSAGE = ("Your cluster stopped answering for a moment and was restarted; what you "
                     "made in it is still there.")
# /healthz probes every ready cluster of this host at once, each with this timeout.
HEALTH_PROBE_THREADS = 8


def ready_here(tier: str):
    """The usable sandboxes of this tier whose clusters run on this host."""
    return Sandbox.objects.filter(host=settings.LAB_HOST, tier=tier, state__in=USABLE_STATES)


def silent(backend, sandboxes: list[Sandbox]) -> list[Sandbox]:
    """Those of sandboxes whose cluster missed two probes, PROBE_GAP_SECONDS apart."""
    missed = [sandbox for sandbox in sandboxes if not backend.answers(sandbox.cluster)]
    if not missed:
        return []
    time.sleep(PROBE_GAP_SECONDS)
    return [sandbox for sandbox in missed if not backend.answers(sandbox.cluster)]


def revive(backend, sandbox: Sandbox) -> bool:
    """Restart the silent cluster once. True if it answers again; otherwise the sandbox is
    failed, with a reason in the learner's words, and False."""
    lifecycle.record(sandbox, "silent", "its API server missed two probes; restarting it")
    detail = "it still did not answer"
    try:
        backend.restart(sandbox.cluster)
        poll(lambda: backend.answers(sandbox.cluster), time.monotonic() + RESTART_WAIT_SECONDS, 1.0)
    except BackendError as exc:
        detail = str(exc)
    except TimedOut:
        detail = f"it did not answer within {RESTART_WAIT_SECONDS}s of the restart"
    else:
        lifecycle.record(sandbox, "restarted", "its API server answers again")
        progress.report(sandbox, RESTARTED_STEP, 100, RESTARTED_MESSAGE)
        log.info("liveness: restarted the silent cluster %s", sandbox.cluster)
        return True
    log.warning("liveness: %s could not be restarted: %s", sandbox.cluster, detail)
    lifecycle.record(sandbox, "restart-failed", detail)
    lifecycle.fail(sandbox.id, DEAD_REASON)
    return False


def check_tier(tier: str, clusters: set[str]) -> dict:
    """Probe this host's ready sandboxes of tier whose clusters exist (`clusters`), and revive
    the silent ones. One pass per host at a time: a second reconcile started while restarts
    are under way leaves them to the first."""
    result = {"restarted": [], "dead": []}
    backend = get_backend(tier)
    lock = coordination.client().lock(f"{coordination._prefix()}:liveness:{settings.LAB_HOST}:{tier}",
                                      timeout=900, blocking=False)
    if not lock.acquire():
        return result
    try:
        candidates = [sb for sb in ready_here(tier) if sb.cluster in clusters]
        for sandbox in silent(backend, candidates):
            sandbox.refresh_from_db()
            if sandbox.state not in USABLE_STATES:
                continue  # stopped while we probed: its delete takes care of it
            result["restarted" if revive(backend, sandbox) else "dead"].append(str(sandbox.id))
    finally:
        try:
            lock.release()
        except redis.exceptions.LockError:
            pass
    return result


def counts() -> dict:
    """For /healthz: how many of this host's ready sandboxes answer right now, and how many
    do not (counts only: which learner's cluster is down is nobody's business there)."""
    pairs = [(get_backend(tier.name), sandbox.cluster) for tier in tiers.enabled()
             for sandbox in ready_here(tier.name).only("cluster")]
    with ThreadPoolExecutor(max_workers=HEALTH_PROBE_THREADS) as pool:
        answers = list(pool.map(lambda pair: pair[0].answers(pair[1]), pairs))
    return {"ready": len(answers), "answering": sum(answers),
            "not_answering": len(answers) - sum(answers)}
