from django.apps import AppConfig


class LabConfig(AppConfig):
    name = "lab"
    verbose_name = "Lab"

    def ready(self):
        from lab import signals  # noqa: F401  (creates the instructors group after migrate)
