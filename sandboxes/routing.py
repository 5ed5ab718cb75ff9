"""WebSocket routes of the sandboxes app."""
from django.urls import re_path

from sandboxes.consumers import SandboxEventsConsumer

websocket_urlpatterns = [
    re_path(r"^ws/sandboxes/(?P<sandbox_id>[^/]+)/events/$", SandboxEventsConsumer.as_asgi()),
]
