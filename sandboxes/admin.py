from django.contrib import admin

from sandboxes import lifecycle
from sandboxes.models import Sandbox, SandboxEvent


class EventInline(admin.TabularInline):
    model = SandboxEvent
    extra = 0
    readonly_fields = ("at", "kind", "detail")
    can_delete = False


@admin.register(Sandbox)
class SandboxAdmin(admin.ModelAdmin):
    list_display = ("cluster", "owner", "tier", "state", "host", "created_at", "ready_at",
                    "last_activity_at")
    list_filter = ("state", "tier", "host")
    search_fields = ("cluster", "owner__username", "id")
    readonly_fields = [f.name for f in Sandbox._meta.fields]
    inlines = [EventInline]
    actions = ["stop_sandboxes"]

    @admin.action(description="Stop the selected sandboxes")
    def stop_sandboxes(self, request, queryset):
        stopped = sum(1 for sandbox in queryset if lifecycle.stop(sandbox, reason=f"stopped by {request.user} (admin)"))
        self.message_user(request, f"Stopping {stopped} sandbox(es).")
