"""`manage.py sandbox start|list|stop|reconcile`: sandboxes for scripts and operators, through
the same lifecycle functions and Celery tasks as the web page."""
from __future__ import annotations

import json
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from sandboxes import lifecycle, tiers
from sandboxes.models import Sandbox, State


def _describe(sandbox: Sandbox, seconds: float | None = None) -> dict:
    return {
        "id": str(sandbox.id),
        "state": sandbox.state,
        "tier": sandbox.tier,
        "backend": sandbox.backend,
        "kubeconfig": sandbox.kubeconfig or None,
        "seconds": round(seconds, 3) if seconds is not None else None,
        "owner": sandbox.owner.username if sandbox.owner_id else None,
        "cluster": sandbox.cluster,
        "failure": sandbox.failure or None,
    }


class Command(BaseCommand):
    help = "Start, list, stop and reconcile sandboxes (real clusters, through Celery)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        start = sub.add_parser("start", help="start (or resume) a learner's sandbox")
        start.add_argument("--user", required=True)
        start.add_argument("--course", default="")
        start.add_argument("--lesson", default="")
        start.add_argument("--tier", choices=tiers.ORDER, default=tiers.DEFAULT)
        start.add_argument("--wait", action="store_true", help="wait until it is ready (or failed)")
        start.add_argument("--timeout", type=float, default=None)
        start.add_argument("--json", action="store_true", dest="as_json")
        listing = sub.add_parser("list", help="list sandboxes")
        listing.add_argument("--all", action="store_true", help="include stopped and failed ones")
        listing.add_argument("--json", action="store_true", dest="as_json")
        stop = sub.add_parser("stop", help="stop a sandbox")
        stop.add_argument("id")
        stop.add_argument("--wait", action="store_true")
        stop.add_argument("--json", action="store_true", dest="as_json")
        reconcile = sub.add_parser("reconcile", help="compare clusters with the database now")
        reconcile.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _emit(self, data, as_json: bool, text: str) -> None:
        self.stdout.write(json.dumps(data) if as_json else text)

    def _start(self, user, course, lesson, tier, wait, timeout, as_json, **_):
        User = get_user_model()
        try:
            owner = User.objects.get(username=user)
        except User.DoesNotExist:
            raise CommandError(f"no user named {user!r}") from None
        started = time.monotonic()
        try:
            sandbox = lifecycle.start(owner, tier, course=course, lesson=lesson)
        except lifecycle.SandboxRefused as exc:
            raise CommandError(str(exc)) from None
        if wait:
            sandbox = self._wait(sandbox, {State.READY, State.EXPIRING, State.FAILED},
                                 timeout or tiers.get(tier).cli_wait)
        seconds = time.monotonic() - started
        data = _describe(sandbox, seconds)
        self._emit(data, as_json, f"{sandbox.id} {sandbox.state} {sandbox.tier} "
                               f"{sandbox.kubeconfig or '-'} ({seconds:.1f}s)")
        if sandbox.state == State.FAILED:
            raise CommandError(f"sandbox failed: {sandbox.failure}")

    def _wait(self, sandbox: Sandbox, states: set, timeout: float) -> Sandbox:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sandbox.refresh_from_db()
            if sandbox.state in states:
                return sandbox
            time.sleep(0.1)
        raise CommandError(f"sandbox {sandbox.id} is still {sandbox.state} after {timeout:.0f}s "
                           "(is a Celery worker running?)")

    def _list(self, all, as_json, **_):
        sandboxes = Sandbox.objects.select_related("owner")
        if not all:
            sandboxes = sandboxes.exclude(state__in=[State.DELETED, State.FAILED])
        rows = [_describe(s) for s in sandboxes]
        if as_json:
            self.stdout.write(json.dumps(rows))
            return
        now = timezone.now()
        for s in sandboxes:
            age = int((now - s.created_at).total_seconds())
            self.stdout.write(f"{s.id}  {s.state:<12} {s.tier:<4} {s.owner.username if s.owner_id else '(pool)':<16} "
                              f"{s.cluster}  {age}s")

    def _stop(self, id, wait, as_json, **_):
        sandbox = Sandbox.objects.filter(pk=id).first()
        if sandbox is None:
            raise CommandError(f"no sandbox {id}")
        started = time.monotonic()
        lifecycle.stop(sandbox, reason="stopped from the command line")
        if wait:
            sandbox = self._wait(sandbox, {State.DELETED, State.FAILED}, tiers.get(sandbox.tier).cli_wait)
        sandbox.refresh_from_db()
        self._emit(_describe(sandbox, time.monotonic() - started), as_json, f"{sandbox.id} {sandbox.state}")

    def _reconcile(self, as_json, **_):
        from django.conf import settings

        from sandboxes.tasks import reconcile

        result = reconcile.apply_async(queue=lifecycle.host_queue(settings.LAB_HOST)).get(timeout=300)
        self._emit(result, as_json, "\n".join(f"{k}: {', '.join(v) or '-'}" for k, v in result.items()))
