"""HTTP endpoints for a learner's sandbox: start, status (the polling fallback), stop, reset,
extend. Every answer is JSON; every action is a POST checked against the owner."""
from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from sandboxes import lifecycle, tiers
from sandboxes.access import get_sandbox_for
from sandboxes.progress import snapshot


def _uuid_or_404(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404("No such sandbox") from None


@login_required
@require_POST
def start(request):
    tier = request.POST.get("tier", tiers.DEFAULT)
    if tier not in tiers.REGISTRY:
        return JsonResponse({"error": f"Unknown tier {tier!r}."}, status=400)
    try:
        sandbox = lifecycle.start(request.user, tier, course=request.POST.get("course", "")[:100],
                                  lesson=request.POST.get("lesson", "")[:100],
                                  replace=request.POST.get("replace") == "1")
    except lifecycle.SandboxRefused as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse(snapshot(sandbox), status=201)


@login_required
@require_GET
def status(request, sandbox_id):
    sandbox = get_sandbox_for(request.user, _uuid_or_404(sandbox_id), drive=False)
    return JsonResponse(snapshot(sandbox))


@login_required
@require_POST
def stop(request, sandbox_id):
    sandbox = get_sandbox_for(request.user, _uuid_or_404(sandbox_id), drive=True)
    lifecycle.stop(sandbox, reason=f"stopped by {request.user}")
    sandbox.refresh_from_db()
    return JsonResponse(snapshot(sandbox))


@login_required
@require_POST
def reset(request, sandbox_id):
    sandbox = get_sandbox_for(request.user, _uuid_or_404(sandbox_id), drive=True)
    try:
        fresh = lifecycle.reset(sandbox)
    except lifecycle.SandboxRefused as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse(snapshot(fresh), status=201)


@login_required
@require_POST
def extend(request, sandbox_id):
    sandbox = get_sandbox_for(request.user, _uuid_or_404(sandbox_id), drive=True)
    lifecycle.touch(sandbox, force=True)
    sandbox.refresh_from_db()
    return JsonResponse(snapshot(sandbox))
