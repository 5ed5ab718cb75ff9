"""WebSocket routes of the courses app."""
from django.urls import re_path

from courses.consumers import GradingConsumer

websocket_urlpatterns = [
    re_path(r"^ws/courses/(?P<course_slug>[a-z0-9-]+)/(?P<lesson_slug>[a-z0-9-]+)/grading/$",
            GradingConsumer.as_asgi()),
]
