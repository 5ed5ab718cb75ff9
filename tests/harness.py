"""Loaded with `-p tests.harness` before Django reads its settings.

The tests run the lab's real parts: a Redis server, a Celery worker and uvicorn, as processes.
This module gives the test session its own data directory, Redis port and Celery queue, so a
test run never touches a developer's running lab (or another test run's).
"""
import os
import shutil
from pathlib import Path

from bench.processes import free_port

ROOT = Path(__file__).resolve().parent.parent

_data = ROOT / "var" / f"test-{os.getpid()}"
shutil.rmtree(_data, ignore_errors=True)
_data.mkdir(parents=True)
REDIS_PORT = free_port()
os.environ.update({
    "LAB_DATA_DIR": str(_data),
    # Static files collected privately: another run's collectstatic never pulls them away.
    "STATIC_ROOT": str(_data / "static"),
    "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
    "CELERY_QUEUE": f"test-{os.getpid()}",
    "CHANNELS_PREFIX": f"k8slab-test-{os.getpid()}",
    "SECRET_KEY": "tests-only-" + "x" * 40,
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    # No warm pool unless a test asks for one, and a small host so queueing can be tested.
    "SANDBOX_POOL_API": "0",
    "SANDBOX_CAPACITY_API": "3",
    # A killed worker's "creating" marker vanishes within seconds, not the production 45 s.
    "SANDBOX_MARKER_TTL": "6",
})
os.environ.pop("DATABASE_URL", None)


def pytest_unconfigure(config):
    if not os.environ.get("KEEP_TEST_DATA"):
        _remove_jails()
        shutil.rmtree(_data, ignore_errors=True)


def _remove_jails():
    """The jails of sandboxes the tests left: their processes, cgroups and mounted homes go
    through the product's own removal (rmtree alone would leave each home on its loop device)."""
    from sandboxes.jail.layout import JailLayout

    for directory in (_data / "sandboxes").glob("*"):
        if directory.is_dir() and not directory.name.startswith("."):
            JailLayout(directory, directory.name).remove()
