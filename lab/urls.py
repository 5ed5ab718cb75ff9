from django.contrib import admin
from django.urls import include, path

from lab import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("sandboxes.urls")),
    path("", include("classes.urls")),
    path("", include("courses.urls")),
]
