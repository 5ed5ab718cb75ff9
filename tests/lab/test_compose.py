"""docker-compose.yml's processes agree with the lab's own rules (no Docker needed to check; the
end-to-end test that runs them is tests/deploy/test_compose.py)."""
import re
from pathlib import Path

import yaml

from lab import processes
from sandboxes.dispatch import worker_queues

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENTRYPOINT = ROOT / "toolchain" / "images" / "lab-entrypoint.sh"


def _interpolate(text: str) -> str:
    """Compose's ${NAME:-default} with nothing set in the environment: the defaults."""
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: m.group(2), text)


def _services() -> dict:
    return yaml.safe_load(_interpolate(COMPOSE.read_text()))["services"]


def test_the_worker_consumes_the_queues_deletes_and_reconcile_are_sent_to(settings):
    services = _services()
    hosts = {name: services[name]["environment"].get("LAB_HOST") for name in ("web", "worker", "beat")}
    # The web sends deletes, beat sends reconcile, the worker creates: one host name for all.
    assert len(set(hosts.values())) == 1 and None not in hosts.values(), hosts
    # The worker's container runs `manage.py runrole worker`, whose command line is the one
    # `manage.py runlab` starts (lab/processes.py).
    assert services["worker"]["command"] == ["worker"]
    assert "exec python manage.py runrole worker" in ENTRYPOINT.read_text()
    settings.LAB_HOST = hosts["worker"]
    settings.CELERY_TASK_DEFAULT_QUEUE = services["worker"]["environment"].get("CELERY_QUEUE", "lab")
    argv = processes.worker_argv()
    assert argv[argv.index("--queues") + 1] == worker_queues() == f"lab,lab.{hosts['worker']}"


def test_web_worker_and_beat_share_the_hosts_network_and_data_at_the_same_path():
    services = _services()
    for name in ("web", "worker", "beat"):
        service = services[name]
        assert service["network_mode"] == "host", name
        data_dir = service["environment"]["LAB_DATA_DIR"]
        assert f"{data_dir}:{data_dir}" in service["volumes"], name
        assert "ALL" in service["cap_drop"] and not service.get("privileged"), name


def test_the_jail_runs_where_it_is_used_with_the_same_privileges_and_never_privileged():
    services = _services()
    web, worker = services["web"], services["worker"]
    assert web["cap_add"] == worker["cap_add"] and web["security_opt"] == worker["security_opt"]
    assert "systempaths=unconfined" in web["security_opt"]
    assert any(opt.startswith("seccomp:") for opt in web["security_opt"])
    assert "SYS_ADMIN" not in web["cap_add"]
    for name in ("beat", "migrate"):
        assert "cap_add" not in services[name], name


def test_redis_and_postgres_are_published_on_loopback_only():
    services = _services()
    for name in ("redis", "postgres"):
        assert all(port.startswith("127.0.0.1:") for port in services[name]["ports"]), name
