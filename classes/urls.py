from django.urls import path

from classes import views

urlpatterns = [
    path("classes/", views.class_list, name="class-list"),
    path("classes/<int:cohort_id>/", views.class_detail, name="class-detail"),
    path("classes/<int:cohort_id>/matrix.json", views.class_matrix, name="class-matrix"),
    path("classes/<int:cohort_id>/export.csv", views.class_export, name="class-export"),
    path("classes/<int:cohort_id>/sandboxes/<uuid:sandbox_id>/stop/", views.sandbox_stop,
         name="class-sandbox-stop"),
    path("classes/<int:cohort_id>/sandboxes/<uuid:sandbox_id>/reset/", views.sandbox_reset,
         name="class-sandbox-reset"),
    path("classes/<int:cohort_id>/sandboxes/<uuid:sandbox_id>/watch/", views.sandbox_watch,
         name="class-sandbox-watch"),
    path("join/<str:code>/", views.join, name="class-join"),
]
