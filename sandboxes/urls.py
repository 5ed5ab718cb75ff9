from django.urls import path

from sandboxes import views

urlpatterns = [
    path("sandboxes/start/", views.start, name="sandbox-start"),
    path("sandboxes/<str:sandbox_id>/", views.status, name="sandbox-status"),
    path("sandboxes/<str:sandbox_id>/stop/", views.stop, name="sandbox-stop"),
    path("sandboxes/<str:sandbox_id>/reset/", views.reset, name="sandbox-reset"),
    path("sandboxes/<str:sandbox_id>/extend/", views.extend, name="sandbox-extend"),
]
