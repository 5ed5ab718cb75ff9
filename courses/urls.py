from django.urls import path

from courses import views

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("courses/<slug:course_slug>/", views.course_detail, name="course"),
    path("courses/<slug:course_slug>/<slug:lesson_slug>/", views.lesson_detail, name="lesson"),
    path("courses/<slug:course_slug>/<slug:lesson_slug>/complete/", views.lesson_complete,
         name="lesson-complete"),
]
