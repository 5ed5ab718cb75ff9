"""The WebSocket Origin check (lab/origin.py): only this site itself (scheme, host and port) or
one of CSRF_TRUSTED_ORIGINS may open a socket; the real server refuses the rest at the
handshake."""
import asyncio
import uuid

import pytest

from lab.origin import origin_allowed, parse_origin


def scope(origin=None, host="127.0.0.1:8000", scheme="ws", **headers):
    raw = [(b"host", host.encode())] if host is not None else []
    if origin is not None:
        raw.append((b"origin", origin.encode()))
    raw += [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    return {"type": "websocket", "scheme": scheme, "headers": raw}


@pytest.mark.parametrize("origin, allowed", [
    ("http://127.0.0.1:8000", True),
    ("HTTP://127.0.0.1:8000", True),
    ("http://127.0.0.1:9999", False),  # another program on the same machine
    ("http://127.0.0.1", False),
    ("https://127.0.0.1:8000", False),
    ("http://localhost:8000", False),  # allowed host, but not the one this request came to
    ("https://evil.example", False),
    ("null", False),
    ("http://127.0.0.1:8000/path", False),
    ("", False),
])
def test_only_the_sites_own_origin_is_allowed(origin, allowed, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    assert origin_allowed(scope(origin)) is allowed


def test_default_ports_compare_equal(settings):
    settings.ALLOWED_HOSTS = ["lab.example"]
    assert origin_allowed(scope("http://lab.example", host="lab.example:80"))
    assert origin_allowed(scope("http://lab.example:80", host="lab.example"))
    assert origin_allowed(scope("https://lab.example", host="lab.example", scheme="wss"))


def test_no_origin_or_two_origins_are_refused(settings):
    assert not origin_allowed(scope(None))
    twice = scope("http://127.0.0.1:8000")
    twice["headers"].append((b"origin", b"http://127.0.0.1:8000"))
    assert not origin_allowed(twice)


def test_a_host_outside_allowed_hosts_is_never_the_site(settings):
    # DNS rebinding: the attacker's name now points at us; Origin and Host agree, but the Host
    # is not one of ours.
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    assert not origin_allowed(scope("http://rebound.example:8000", host="rebound.example:8000"))
    assert not origin_allowed(scope("http://127.0.0.1:8000", host=None))


def test_behind_an_https_proxy_the_site_is_https(settings):
    settings.ALLOWED_HOSTS = ["lab.example"]
    settings.HTTPS = True
    proxied = scope("https://lab.example", host="lab.example", x_forwarded_proto="https")
    assert origin_allowed(proxied)
    assert not origin_allowed(scope("http://lab.example", host="lab.example"))
    settings.HTTPS = False
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert origin_allowed(proxied)
    assert not origin_allowed(scope("https://lab.example", host="lab.example",
                                    x_forwarded_proto="http", scheme="wss"))


def test_x_forwarded_host_counts_only_when_django_is_told_to_use_it(settings):
    settings.ALLOWED_HOSTS = ["lab.example", "10.0.0.5"]
    behind = scope("http://lab.example", host="10.0.0.5:8000", x_forwarded_host="lab.example")
    assert not origin_allowed(behind)
    settings.USE_X_FORWARDED_HOST = True
    assert origin_allowed(behind)


def test_csrf_trusted_origins_are_allowed_exactly_or_by_wildcard(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://docs.example", "https://*.lab.example"]
    assert origin_allowed(scope("https://docs.example"))
    assert origin_allowed(scope("https://a.lab.example"))
    assert not origin_allowed(scope("https://lab.example.evil"))
    assert not origin_allowed(scope("http://docs.example"))
    assert not origin_allowed(scope("https://docs.example:8443"))


def test_parse_origin_rejects_what_is_not_an_origin():
    assert parse_origin("http://a:99999") is None
    assert parse_origin("ftp://a") is None
    assert parse_origin("http://user@a") is None
    assert parse_origin("https://A.example") == ("https", "a.example", 443)


@pytest.mark.django_db(transaction=True)
def test_the_real_server_refuses_another_port_at_the_handshake(lab_url, owner):
    import websockets
    from django.test import Client

    client = Client()
    client.force_login(owner)
    cookie = {"Cookie": f"sessionid={client.cookies['sessionid'].value}"}
    host = lab_url.split("//")[1]
    port = host.split(":")[1]
    url = f"ws://{host}/ws/sandboxes/{uuid.uuid4()}/events/"

    async def attempt(origin):
        try:
            async with websockets.connect(url, origin=origin, additional_headers=cookie) as ws:
                await asyncio.wait_for(ws.recv(), 10)  # the refusal's error message
                await asyncio.wait_for(ws.recv(), 10)
        except websockets.exceptions.InvalidStatus as exc:
            return exc.response.status_code
        except websockets.exceptions.ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else "closed"
        return "open"

    other_port = "9999" if port != "9999" else "9998"
    assert asyncio.run(attempt(f"http://127.0.0.1:{other_port}")) == 403
    # The site's own page gets in, and is told why it is closed: no such sandbox of theirs.
    assert asyncio.run(attempt(lab_url)) == 4403
