"""Keeps what the lab writes private to its own uid: the data directory can be passed through
but not listed, and the database, its WAL files, the secrets and the clusters' work dirs are the
lab's alone.

Passed through, not closed: the learner's jail runs bubblewrap as the learner's own uid and
binds files from DATA_DIR/jail and DATA_DIR/sandboxes/<id>, so those two levels stay 0711 (enter
by a known name, list nothing). No umask is set for the process: the jail's own files are
written with the modes the jail needs, and a process-wide umask would take those away.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

TRAVERSABLE = 0o711
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
# Directories under DATA_DIR the jail's uid passes through on its way to its own files.
TRAVERSABLE_SUBDIRS = ("sandboxes",)
# The backends' work dirs: every cluster's etcd data, certificates and kubeconfigs.
PRIVATE_SUBDIRS = ("kwok", "kind")
# Generated secrets (lab/env.py writes them 0600; an older or hand-made copy is put right).
SECRET_FILES = ("secret_key", "instance_id")


def set_mode(path: Path, mode: int) -> None:
    """chmod path to mode, if it exists and this process owns it (a directory an operator
    mounted from elsewhere, owned by someone else, is theirs to set). Symlinks are left alone."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return
    if st.st_uid == os.geteuid() and not stat.S_ISLNK(st.st_mode) and stat.S_IMODE(st.st_mode) != mode:
        os.chmod(path, mode)


def prepare_data_dir(data_dir: Path) -> None:
    """Create DATA_DIR and the directories under it whose modes matter, and set those modes."""
    data_dir.mkdir(parents=True, exist_ok=True)
    set_mode(data_dir, TRAVERSABLE)
    for name, mode in [*((n, TRAVERSABLE) for n in TRAVERSABLE_SUBDIRS),
                       *((n, PRIVATE_DIR) for n in PRIVATE_SUBDIRS)]:
        (data_dir / name).mkdir(mode=mode, exist_ok=True)
        set_mode(data_dir / name, mode)
    for name in SECRET_FILES:
        set_mode(data_dir / name, PRIVATE_FILE)


def sqlite_files(name) -> list[Path]:
    """The database file and the files SQLite keeps beside it."""
    return [Path(f"{name}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")]


def protect_sqlite(sender=None, connection=None, **kwargs) -> None:
    """On every new database connection (Django's connection_created): the SQLite file and its
    companions 0600. SQLite gives the -wal and -shm files it creates later the database file's
    own mode, so once the file is 0600 they are too; ones left from before are put right here."""
    if connection is None or connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or "mode=memory" in name:
        return
    for path in sqlite_files(name):
        set_mode(path, PRIVATE_FILE)
