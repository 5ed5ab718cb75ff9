"""How the lab sends its Celery tasks: by name (so no module imports the tasks module back) and,
from inside a transaction, only once it commits (the worker must find the rows as they were
left). Queue names are made here, for settings, the worker's command line and the lifecycle."""
from __future__ import annotations

from celery import current_app
from django.conf import settings
from django.db import transaction

TASKS_MODULE = "sandboxes.tasks"


def host_queue(host: str) -> str:
    """The queue of one sandbox host's worker: a cluster is deleted where it was made."""
    return f"{settings.CELERY_TASK_DEFAULT_QUEUE}.{host}"


def worker_queues() -> str:
    """The queues a worker on this host consumes: the shared one and its host's own."""
    return f"{settings.CELERY_TASK_DEFAULT_QUEUE},{host_queue(settings.LAB_HOST)}"


def send_task(name: str, args: list | None = None, queue: str | None = None) -> None:
    """Send the task sandboxes.tasks.<name> now."""
    current_app.send_task(f"{TASKS_MODULE}.{name}", args=args or [],
                          **({"queue": queue} if queue else {}))


def send_on_commit(name: str, args: list | None = None, queue: str | None = None) -> None:
    """Send the task once the current transaction commits (at once outside of one)."""
    args = list(args or [])
    transaction.on_commit(lambda: send_task(name, args, queue))
