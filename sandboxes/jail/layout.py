"""Where one sandbox's jail lives on the host, who it runs as there, and the root-owned files
around the learner's home."""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import uuid
from pathlib import Path

from django.conf import settings

from sandboxes.jail import homefs, limits

JAIL_HOME = "/home/learner"
JAIL_USER = "learner"
JAIL_UID = 1000
API_PORT = 6443


class JailGone(RuntimeError):
    """The sandbox's files are gone: it was stopped or removed."""


def running_as_root() -> bool:
    return os.geteuid() == 0


def host_uid(sandbox_id) -> int:
    """A distinct unprivileged uid per sandbox (no account needed), so even a process that got
    out of its namespaces would own nothing of any other learner's or of the lab's."""
    digest = int(hashlib.sha256(str(sandbox_id).encode()).hexdigest(), 16)
    return settings.TERMINAL_UID_BASE + digest % 60000


class JailLayout:
    """The host-side files of one sandbox's jail. Everything here but the home is the lab's
    (root-owned); the home is the learner's, and the lab never opens a path inside it as root
    (see homefiles and kubeconfig.learner_namespace)."""

    def __init__(self, sandbox_dir: Path, sandbox_id):
        self.root = Path(sandbox_dir)
        self.sandbox_id = str(sandbox_id)
        self.home = self.root / "home"
        self.home_image = self.root / "home.img"
        self.etc = self.root / "etc"
        self.run = self.root / "run"
        self.api_socket = self.run / "apiserver.sock"
        self.uid = host_uid(sandbox_id) if running_as_root() else os.geteuid()
        self.gid = self.uid if running_as_root() else os.getegid()

    @contextlib.contextmanager
    def _locked(self):
        """One ensure or remove of this jail at a time, across all the lab's processes (web,
        workers: flock). The sandbox directory is made when its cluster is installed and is
        gone once the sandbox is removed: a run still under way then (a check in the
        background) must not make any of it again."""
        gone = JailGone(f"sandbox {self.sandbox_id} has no files (it was stopped)")
        try:
            fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                         0o600)
        except FileNotFoundError:
            raise gone from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if not (self.root / ".lock").exists():  # removed while this waited
                raise gone
            yield
        finally:
            os.close(fd)

    def ensure(self) -> None:
        """The directories and files a jail needs, with their modes: the sandbox directory
        0711 (the jail's uid passes through, nobody lists it), the home 0700 and the learner's
        (on its own bounded filesystem where this host can), the rest root's."""
        with self._locked():
            self._ensure()

    def _ensure(self) -> None:
        os.chmod(self.root, 0o711)
        for directory in (self.etc, self.run):
            directory.mkdir(exist_ok=True)
            os.chmod(directory, 0o755)
        homefs.ensure(self.home, self.home_image, self.uid, self.gid)
        self._write_lab_file("passwd", f"root:x:0:0:root:/root:/usr/sbin/nologin\n"
                                       f"{JAIL_USER}:x:{JAIL_UID}:{JAIL_UID}:Learner:{JAIL_HOME}:/bin/bash\n")
        self._write_lab_file("group", f"root:x:0:\n{JAIL_USER}:x:{JAIL_UID}:\n")
        self._write_lab_file("hosts", "127.0.0.1 localhost k8s-lab\n")

    def _write_lab_file(self, name: str, text: str) -> None:
        target = self.etc / name
        if target.is_file() and not target.is_symlink() and target.read_text() == text:
            return
        tmp = self.etc / f".{name}.{os.getpid()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, target)

    def new_run_dir(self) -> Path:
        """A fresh root-owned directory for one script run: its API socket and the lab's
        kubeconfig, bind-mounted read-only at /run/lab in the jail. (Kept short: a unix socket's
        path has at most 107 bytes.)"""
        path = self.root / f"c{uuid.uuid4().hex[:8]}"
        try:
            path.mkdir(mode=0o711)
        except FileNotFoundError:
            raise JailGone(f"sandbox {self.sandbox_id} has no files (it was stopped)") from None
        os.chmod(path, 0o711)
        return path

    def limited_run(self, kind: str) -> limits.Run:
        """A process tree of this jail under its sandbox's limits (see limits.Run)."""
        return limits.Run(self.sandbox_id, kind, self.root)

    def remove(self) -> None:
        """Everything of this jail on the host: what still runs in it (killed with its cgroups),
        the home's filesystem (unmounted) and the files. The directory is first renamed away
        under the lock, so no run can make it again meanwhile."""
        removing = self.root.with_name(f".removing-{self.root.name}-{uuid.uuid4().hex[:8]}")
        try:
            with self._locked():
                os.rename(self.root, removing)
        except JailGone:
            removing = None
        limits.release_sandbox(self.sandbox_id)
        if removing is not None:
            homefs.release(removing / "home")
            shutil.rmtree(removing, ignore_errors=True)
