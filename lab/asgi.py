"""The ASGI entry point: Django views over HTTP, Channels consumers over WebSocket.

Every WebSocket is checked twice before it reaches a consumer: its Origin must be one of
ALLOWED_HOSTS (a page on another site cannot open a learner's terminal with their cookie), and
the session cookie must name a user; consumers then check that the user owns what they open.
"""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lab.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from classes.routing import websocket_urlpatterns as class_sockets  # noqa: E402
from courses.routing import websocket_urlpatterns as course_sockets  # noqa: E402
from sandboxes.routing import websocket_urlpatterns as sandbox_sockets  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(
        sandbox_sockets + course_sockets + class_sockets))),
})
