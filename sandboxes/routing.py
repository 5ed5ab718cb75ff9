"""WebSocket routes of the sandboxes app."""
from django.urls import re_path

from sandboxes.consumers import SandboxEventsConsumer
from sandboxes.terminal.consumer import TerminalConsumer

websocket_urlpatterns = [
    re_path(r"^ws/sandboxes/(?P<sandbox_id>[^/]+)/events/$", SandboxEventsConsumer.as_asgi()),
    re_path(r"^ws/sandboxes/(?P<sandbox_id>[^/]+)/terminal/$", TerminalConsumer.as_asgi()),
]
