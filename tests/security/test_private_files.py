"""The data directory as another uid sees it: it can pass through DATA_DIR and
DATA_DIR/sandboxes (the learner's jail must), but list nothing and read neither the database,
its WAL files, the generated secrets nor any cluster's work dir."""
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from lab.private_files import prepare_data_dir

NOBODY = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                                reason="acting as another uid needs root and setpriv")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def as_nobody(*argv) -> subprocess.CompletedProcess:
    return subprocess.run([*NOBODY, *map(str, argv)], capture_output=True, text=True, timeout=30)


@pytest.fixture
def database_files(django_db_blocker):
    """The test database in WAL mode, written to, with its -wal and -shm files present."""
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS private_probe (x int)")
            cursor.execute("INSERT INTO private_probe VALUES (1)")
        name = Path(connection.settings_dict["NAME"])
        yield [name, Path(f"{name}-wal"), Path(f"{name}-shm")]


@pytest.mark.django_db
def test_the_database_and_its_wal_files_are_the_labs_alone(database_files):
    for path in database_files:
        assert path.exists(), path
        assert mode(path) == 0o600, path
        result = as_nobody("cat", path)
        assert result.returncode != 0 and "Permission denied" in result.stderr, path


def test_the_data_dir_is_passed_through_but_not_listed():
    data = Path(settings.DATA_DIR)
    assert mode(data) == 0o711 and mode(data / "sandboxes") == 0o711
    for directory in (data, data / "sandboxes"):
        listing = as_nobody("ls", directory)
        assert listing.returncode != 0 and "Permission denied" in listing.stderr
    # What the jail binds lies below, in a directory it may read: it is reached by its name.
    shared = data / "jail"
    shared.mkdir(exist_ok=True)
    os.chmod(shared, 0o755)
    probe = shared / "probe-for-test"
    probe.write_text("reachable\n")
    os.chmod(probe, 0o644)
    try:
        assert as_nobody("cat", probe).stdout == "reachable\n"
    finally:
        probe.unlink()


def test_cluster_work_dirs_and_secrets_are_private():
    data = Path(settings.DATA_DIR)
    for name in ("kwok", "kind"):
        assert mode(data / name) == 0o700, name
        assert as_nobody("ls", data / name).returncode != 0
    instance_id = data / "instance_id"  # generated (SECRET_KEY comes from the environment here)
    assert instance_id.exists() and mode(instance_id) == 0o600
    assert as_nobody("cat", instance_id).returncode != 0


def test_an_existing_data_dir_is_put_right(tmp_path):
    data = tmp_path / "old-install"
    for name in ("sandboxes", "kwok", "kind"):
        (data / name).mkdir(parents=True)
        os.chmod(data / name, 0o755)
    (data / "secret_key").write_text("x")
    os.chmod(data / "secret_key", 0o644)
    os.chmod(data, 0o755)
    prepare_data_dir(data)
    assert [mode(data / n) for n in ("", "sandboxes", "kwok", "kind", "secret_key")] == \
        [0o711, 0o711, 0o700, 0o700, 0o600]
