"""The WebSocket Origin check: a socket opens only from a page of this site (same scheme, host
and port as the request) or from one of CSRF_TRUSTED_ORIGINS.

Channels' AllowedHostsOriginValidator compares only the Origin's host with ALLOWED_HOSTS, so a
page on http://127.0.0.1:9999 (any local program) could open a learner's terminal on :8000 with
their cookie. Browsers send an Origin with every WebSocket handshake and pages cannot forge it.
"""
from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


class Origin(NamedTuple):
    scheme: str
    host: str
    port: int


def parse_origin(value: str) -> Origin | None:
    """scheme://host[:port] as a comparable triple; None for anything else (e.g. "null")."""
    try:
        parts = urlsplit(value.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/") \
            or parts.query or parts.username is not None:
        return None
    return Origin(parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme])


def _headers(scope) -> dict[str, str]:
    return {name.decode("latin1").lower(): value.decode("latin1")
            for name, value in scope.get("headers", [])}


def _is_secure(scope, headers: dict[str, str]) -> bool:
    """As Django's request.is_secure(): the proxy's header when one is configured and sent, else
    the connection's own scheme. HTTPS=true says the site is only served over HTTPS."""
    if settings.HTTPS:
        return True
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        name, secure_value = proxy
        sent = headers.get(name.removeprefix("HTTP_").replace("_", "-").lower())
        if sent is not None:
            return sent.split(",")[0].strip() == secure_value
    return scope.get("scheme") in ("wss", "https")


def _allowed_hosts() -> list[str]:
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:  # Django's own default for DEBUG
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    return hosts


def site_origin(scope) -> Origin | None:
    """The origin a page of this site has when it makes this request; None when the Host is
    missing or not one of ALLOWED_HOSTS (a rebound DNS name must not count as "this site")."""
    headers = _headers(scope)
    host = headers.get("host", "")
    if getattr(settings, "USE_X_FORWARDED_HOST", False) and headers.get("x-forwarded-host"):
        host = headers["x-forwarded-host"].split(",")[0].strip()
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, _allowed_hosts()):
        return None
    scheme = "https" if _is_secure(scope, headers) else "http"
    return parse_origin(f"{scheme}://{host}")


def _trusted(origin: Origin) -> bool:
    """One of CSRF_TRUSTED_ORIGINS, with Django's "https://*.example.com" wildcards."""
    for entry in settings.CSRF_TRUSTED_ORIGINS:
        wildcard = "://*." in entry
        trusted = parse_origin(entry.replace("://*.", "://", 1))
        if trusted is None or (trusted.scheme, trusted.port) != (origin.scheme, origin.port):
            continue
        if origin.host == trusted.host or (wildcard and origin.host.endswith("." + trusted.host)):
            return True
    return False


def origin_allowed(scope) -> bool:
    values = [value for name, value in scope.get("headers", []) if name.lower() == b"origin"]
    if len(values) != 1:
        return False  # browsers send exactly one; none or several is not a page of ours
    origin = parse_origin(values[0].decode("latin1"))
    if origin is None:
        return False
    return origin == site_origin(scope) or _trusted(origin)


class SameOriginValidator:
    """ASGI middleware: refuse a WebSocket at the handshake (HTTP 403) unless origin_allowed.
    No consumer runs for a foreign page, so it learns nothing but "refused"."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
