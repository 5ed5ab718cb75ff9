from django.apps import AppConfig


class LabConfig(AppConfig):
    name = "lab"
    verbose_name = "Lab"

    def ready(self):
        from django.db.backends.signals import connection_created

        from lab import signals  # noqa: F401  (creates the instructors group after migrate)
        from lab.private_files import protect_sqlite

        # The SQLite database (and its -wal/-shm files) readable by the lab's uid alone.
        connection_created.connect(protect_sqlite, dispatch_uid="lab.protect_sqlite")
