"""The sandbox backends: one small interface (base.py), one implementation per tier, named by the
tier registry (sandboxes/tiers.py) and imported the first time a cluster of that tier is needed."""
from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from sandboxes import tiers
from sandboxes.backends.base import Backend, BackendError  # noqa: F401

_instances: dict[str, Backend] = {}


def get_backend(tier: str) -> Backend:
    if tier not in tiers.REGISTRY:
        raise BackendError(f"unknown sandbox tier '{tier}'")
    if tier not in _instances:
        _instances[tier] = import_string(tiers.get(tier).backend)()
    return _instances[tier]


def backend_health() -> dict:
    report = {}
    for tier in tiers.ORDER:
        backend = get_backend(tier)
        try:
            state = backend.health()
        except Exception as exc:  # noqa: BLE001 - a broken backend is reported, not raised
            state = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        report[tier] = {"backend": backend.name, "enabled": tier in settings.LAB_TIERS, **state}
    return report
