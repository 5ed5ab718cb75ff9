from django.urls import re_path

from classes.consumers import ClassDashboardConsumer

websocket_urlpatterns = [
    re_path(r"^ws/classes/(?P<cohort_id>[0-9]+)/$", ClassDashboardConsumer.as_asgi()),
]
