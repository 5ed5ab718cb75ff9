"""The Content-Security-Policy header on every response: scripts, styles, images, fonts and
connections from this site only, no plugins, no framing, forms posted only here.

Scripts are never inline (every page's JavaScript is a file under static/js/), so even markup
that slipped past the lesson sanitizer could not run a script. Styles allow 'unsafe-inline':
xterm.js 6 writes its theme and cell metrics into <style> elements it creates and sets style
attributes, and has no way to put a nonce on them; inline CSS cannot run code, and lessons'
HTML is sanitized (nh3 keeps no style attribute but a table cell's text-align). WebSockets are listed explicitly (ws: or
wss: to this host) because 'self' matches them only in browsers that follow CSP Level 3.
"""
from __future__ import annotations

from django.conf import settings

HEADER = "Content-Security-Policy"


def policy(request) -> str:
    host = request.get_host()  # already checked against ALLOWED_HOSTS
    socket_scheme = "wss" if settings.HTTPS or request.is_secure() else "ws"
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self' 'unsafe-inline'",
        # data: for the small SVG icons lab.css embeds (the checkbox tick).
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": f"'self' {socket_scheme}://{host}",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


class ContentSecurityPolicyMiddleware:
    """Adds the policy to every response that does not set its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if HEADER not in response:
            response[HEADER] = policy(request)
        return response
