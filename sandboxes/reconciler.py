"""The reconciler (beat runs it every minute, each worker once when it starts): compares what
this host really runs with what the database says, and acts. Clusters nobody owns are deleted;
a sandbox whose cluster is gone, whose creator died or whose API server stopped answering (and
would not restart: sandboxes/liveness.py) is failed; lost deletes are sent again. The same
loop the course teaches, run on the lab."""
from __future__ import annotations

import logging

from django.conf import settings

from sandboxes import coordination, liveness, tiers
from sandboxes.backends import get_backend
from sandboxes.dispatch import host_queue, send_task
from sandboxes.lifecycle import fail
from sandboxes.models import CLUSTER_STATES, USABLE_STATES, Sandbox, State
from sandboxes.names import is_lab_cluster

log = logging.getLogger(__name__)

LOST_REASON = ("Your cluster disappeared (the host restarted, or it was removed outside the "
               "lab); start a new one: your progress is kept.")
ABANDONED_REASON = "The worker creating it stopped before it was ready."


def reconcile() -> dict:
    result = {"orphans_deleted": [], "lost": [], "abandoned": [], "deletes_resent": [],
              "restarted": [], "dead": []}
    for tier in tiers.ORDER:
        backend = get_backend(tier)
        if not backend.health().get("ok"):
            continue
        actual = {name for name in backend.list_clusters() if is_lab_cluster(name)}
        known = {sb.cluster: sb for sb in Sandbox.objects.filter(
            host=settings.LAB_HOST, tier=tier, state__in=CLUSTER_STATES)}
        for name in sorted(actual - set(known)):
            # Re-read: a create may have claimed this name since the query above.
            if Sandbox.objects.filter(cluster=name, state__in=CLUSTER_STATES).exists():
                continue
            backend.delete(name)
            result["orphans_deleted"].append(name)
            log.info("reconcile: deleted orphan cluster %s", name)
        for name, sandbox in known.items():
            if sandbox.state in USABLE_STATES and name not in actual:
                fail(sandbox.id, LOST_REASON)
                result["lost"].append(str(sandbox.id))
            elif sandbox.state == State.PROVISIONING and not coordination.is_creating(sandbox.id):
                fail(sandbox.id, ABANDONED_REASON)
                result["abandoned"].append(str(sandbox.id))
            elif sandbox.state == State.DELETING and not coordination.is_creating(sandbox.id):
                # Sent by name: the tasks module imports this one.
                send_task("delete", [str(sandbox.id)], queue=host_queue(sandbox.host))
                result["deletes_resent"].append(str(sandbox.id))
        for key, ids in liveness.check_tier(tier, actual).items():
            result[key] += ids
    return result
