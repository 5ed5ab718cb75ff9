"""The ASGI entry point: Django views over HTTP, Channels consumers over WebSocket.

Every WebSocket is checked twice before it reaches a consumer: its Origin must be this site
itself (scheme, host and port) or one of CSRF_TRUSTED_ORIGINS (lab/origin.py: a page on another
site or port cannot open a learner's terminal with their cookie), and the session cookie is
read into a user; consumers then check that the user may open what they ask for.
"""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lab.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from classes.routing import websocket_urlpatterns as class_sockets  # noqa: E402
from courses.routing import websocket_urlpatterns as course_sockets  # noqa: E402
from lab.origin import SameOriginValidator  # noqa: E402
from sandboxes.routing import websocket_urlpatterns as sandbox_sockets  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(
        sandbox_sockets + course_sockets + class_sockets))),
})
