from django.contrib import admin

from classes.models import Cohort, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ("name", "course", "instructor", "created_at", "open_for_joining")
    inlines = [MembershipInline]
