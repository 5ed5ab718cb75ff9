"""The sandbox backends: one small interface, one implementation per tier, chosen by settings."""
from __future__ import annotations

from django.conf import settings

from sandboxes.backends.base import Backend, BackendError  # noqa: F401
from sandboxes.backends.kind import KindBackend
from sandboxes.backends.kwok import KwokBackend

_BACKENDS = {"api": KwokBackend, "full": KindBackend}
_instances: dict[str, Backend] = {}


def get_backend(tier: str) -> Backend:
    if tier not in _BACKENDS:
        raise BackendError(f"unknown sandbox tier '{tier}'")
    if tier not in _instances:
        _instances[tier] = _BACKENDS[tier]()
    return _instances[tier]


def backend_health() -> dict:
    report = {}
    for tier in _BACKENDS:
        backend = get_backend(tier)
        try:
            state = backend.health()
        except Exception as exc:  # noqa: BLE001 - a broken backend is reported, not raised
            state = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        report[tier] = {"backend": backend.name, "enabled": tier in settings.LAB_TIERS, **state}
    return report
