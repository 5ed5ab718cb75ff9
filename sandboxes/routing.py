"""WebSocket routes of the sandboxes app."""
websocket_urlpatterns: list = []
