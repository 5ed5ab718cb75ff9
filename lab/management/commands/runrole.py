"""`manage.py runrole web|worker|beat`: one of the lab's processes in the foreground, as a
container runs it (docker-compose.yml, where a one-off `migrate` service has run before any of
them). The process replaces this one (exec), so the container's init sends its signals straight
to it."""
from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand

from lab import processes
from lab.env import env_int, env_str


class Command(BaseCommand):
    help = "Run one of the lab's processes (web, worker or beat) in the foreground."

    def add_arguments(self, parser):
        parser.add_argument("role", choices=processes.ROLES)
        parser.add_argument("--host", default=env_str("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=env_int("PORT", 8000, minimum=1))

    def handle(self, *args, role, host, port, **options):
        argv = processes.argv(role, host=host, port=port)
        self.stdout.write(f"starting {role}: {' '.join(argv[1:6])} ...")
        self.stdout.flush()
        os.chdir(settings.BASE_DIR)
        os.execv(argv[0], argv)
