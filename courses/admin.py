from django.contrib import admin

from courses.models import LessonProgress


@admin.register(LessonProgress)
class LessonProgressAdmin(admin.ModelAdmin):
    list_display = ("user", "course", "lesson", "first_opened_at", "completed_at")
    list_filter = ("course", "lesson")
    search_fields = ("user__username",)
