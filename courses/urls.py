from django.urls import path

from courses import exercise_views, views

urlpatterns = [
    path("", views.catalog, name="catalog"),
    path("courses/<slug:course_slug>/", views.course_detail, name="course"),
    path("courses/<slug:course_slug>/version/", views.course_version, name="course-version"),
    path("courses/<slug:course_slug>/<slug:lesson_slug>/", views.lesson_detail, name="lesson"),
    path("courses/<slug:course_slug>/<slug:lesson_slug>/complete/", views.lesson_complete,
         name="lesson-complete"),
    path("courses/<slug:course_slug>/<slug:lesson_slug>/status/", exercise_views.lesson_status,
         name="lesson-status"),
    path("courses/<slug:course_slug>/<slug:lesson_slug>/setup/", views.lesson_setup,
         name="lesson-setup"),
    path("courses/<slug:course_slug>/<slug:lesson_slug>/exercises/<slug:exercise_slug>/check/",
         exercise_views.check, name="exercise-check"),
    path("courses/<slug:course_slug>/<slug:lesson_slug>/exercises/<slug:exercise_slug>/answer/",
         exercise_views.answer, name="exercise-answer"),
    path("courses/<slug:course_slug>/<slug:lesson_slug>/exercises/<slug:exercise_slug>/solution/",
         exercise_views.solution, name="exercise-solution"),
]
