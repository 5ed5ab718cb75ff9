"""The verbs of a sandbox's life, one job per module: starting (start, claim from the warm
pool, reset, touch), creating (the worker's create and retry), stopping (stop, delete, fail),
placement (capacity and the line of waiting sandboxes), pool (the warm pool), reaper (idle
clusters) and records (events, files). The reconciler is sandboxes/reconciler.py; tasks are
sent through sandboxes/dispatch.py. Views, commands and Celery tasks all go through the names
below.

Every state change is a conditional UPDATE (Sandbox.transition) and every step may run twice:
creating what exists and deleting what is gone both count as success.
"""
from sandboxes.dispatch import host_queue, send_task, worker_queues
from sandboxes.lifecycle.creating import create, note_retry
from sandboxes.lifecycle.placement import dispatch_queued, host_load
from sandboxes.lifecycle.pool import refill_pools
from sandboxes.lifecycle.reaper import reap
from sandboxes.lifecycle.records import SandboxRefused, install_kubeconfig, record, remove_files, sandbox_dir
from sandboxes.lifecycle.starting import TOUCH_EVERY_SECONDS, reset, start, touch
from sandboxes.lifecycle.stopping import delete, fail, stop, stop_now

__all__ = ["SandboxRefused", "TOUCH_EVERY_SECONDS", "create", "delete", "dispatch_queued", "fail",
           "host_load", "host_queue", "install_kubeconfig", "note_retry", "reap", "record",
           "refill_pools", "remove_files", "reset", "sandbox_dir", "send_task", "start", "stop",
           "stop_now", "touch", "worker_queues"]
