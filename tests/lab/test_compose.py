"""docker-compose.yml's processes agree with the lab's own rules (no Docker needed to check)."""
import re
import shlex
from pathlib import Path

import yaml

from sandboxes.lifecycle import worker_queues

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def _interpolate(text: str) -> str:
    """Compose's ${NAME:-default} with nothing set in the environment: the defaults."""
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: m.group(2), text)


def test_the_worker_consumes_the_queues_deletes_and_reconcile_are_sent_to(settings):
    services = yaml.safe_load(_interpolate(COMPOSE.read_text()))["services"]
    hosts = {name: services[name]["environment"].get("LAB_HOST") for name in ("web", "worker", "beat")}
    # The web sends deletes, beat sends reconcile, the worker creates: one host name for all.
    assert len(set(hosts.values())) == 1 and None not in hosts.values(), hosts
    settings.LAB_HOST = hosts["worker"]
    settings.CELERY_TASK_DEFAULT_QUEUE = services["worker"]["environment"].get("CELERY_QUEUE", "lab")
    argv = shlex.split(services["worker"]["command"])
    assert argv[argv.index("--queues") + 1] == worker_queues()
