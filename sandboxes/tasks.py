"""Celery tasks: thin wrappers that take ids and call sandboxes.lifecycle."""
from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from sandboxes import lifecycle, reconciler
from sandboxes.backends import BackendError

log = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, max_retries=None, throws=(BackendError,))
def provision(self, sandbox_id: str) -> str:
    try:
        return lifecycle.create(sandbox_id)
    except Exception as exc:  # noqa: BLE001 - every failure ends in a retry or a clear "failed"
        permanent = getattr(exc, "permanent", False)
        attempt = self.request.retries + 1
        if not permanent and self.request.retries < settings.SANDBOX_CREATE_RETRIES:
            countdown = 3 * 2 ** self.request.retries
            lifecycle.note_retry(sandbox_id, exc, attempt, countdown)
            raise self.retry(exc=exc, countdown=countdown)
        log.warning("sandbox %s failed to start: %s", sandbox_id, exc)
        lifecycle.fail(sandbox_id, str(exc))
        return "failed"


@shared_task(bind=True, acks_late=True, max_retries=40)
def delete(self, sandbox_id: str) -> str:
    result = lifecycle.delete(sandbox_id)
    if result == "wait":
        raise self.retry(countdown=3)
    return result


@shared_task(acks_late=True)
def refill_pools() -> int:
    return lifecycle.refill_pools()


@shared_task(acks_late=True)
def dispatch_queued() -> int:
    return lifecycle.dispatch_queued()


@shared_task(acks_late=True)
def reap() -> dict:
    return lifecycle.reap()


@shared_task(acks_late=True, ignore_result=False)
def reconcile() -> dict:
    return reconciler.reconcile()


@worker_ready.connect
def _on_worker_ready(sender=None, **kwargs):
    # At start-up, before beat's first tick: clean up after whatever happened while no worker
    # ran (a crash, a reboot), then refill the pools and start what was waiting.
    queue = lifecycle.host_queue(settings.LAB_HOST)
    reconcile.apply_async(queue=queue)
    refill_pools.apply_async(countdown=2)
    dispatch_queued.apply_async(countdown=2)
