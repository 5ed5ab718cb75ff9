"""Putting files into a learner's home, done as the learner, inside their jail: the lab builds a
tar stream from files of its own, and GNU tar, running as the learner's uid and seeing nothing
of the host but the home, extracts it. A symlink the learner left (~/.kube -> /etc, an asset's
path -> /root/...) can then only ever point inside their own jail, where nothing is the lab's."""
from __future__ import annotations

import io
import logging
import subprocess
import tarfile
from pathlib import Path

from sandboxes.jail import bwrap, limits
from sandboxes.jail.layout import JAIL_HOME, JailLayout, running_as_root

log = logging.getLogger(__name__)
COPY_TIMEOUT = 60
SKIPPED = ": skipping existing file"


class HomeFilesError(RuntimeError):
    """The files could not be put into the home; the message says what tar said."""


def write_files(layout: JailLayout, files: list[tuple[str, bytes, int]]) -> int:
    """Write (path relative to the home, content, mode) files the learner does not have yet
    (never replacing one of theirs). Returns how many were written."""
    archive = _Archive()
    for relpath, data, mode in files:
        archive.add(relpath, io.BytesIO(data), len(data), mode)
    return _extract(layout, archive.close(), archive.files)


def copy_tree(layout: JailLayout, source: Path) -> int:
    """Copy a folder of the lab's (a course's assets) into the home, keeping paths and
    permission bits, never replacing a file the learner already has. Symlinks and special files
    of the source are left out. Returns how many files were copied."""
    source = Path(source)
    archive = _Archive()
    for path in sorted(source.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        st = path.stat()
        with path.open("rb") as fh:
            archive.add(path.relative_to(source).as_posix(), fh, st.st_size, st.st_mode,
                        int(st.st_mtime))
    return _extract(layout, archive.close(), archive.files) if archive.files else 0


class _Archive:
    """A tar stream in memory of the lab's files, each preceded by entries for its parent
    directories, so tar makes them with a known mode (an existing directory of the learner's is
    left as it is: --skip-old-files)."""

    def __init__(self):
        self.stream = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.stream, mode="w", format=tarfile.GNU_FORMAT)
        self.directories: set[str] = set()
        self.files = 0

    def add(self, relpath: str, fileobj, size: int, mode: int, mtime: int | None = None) -> None:
        parts = relpath.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            directory = "/".join(parts[:i])
            if directory not in self.directories:
                self.directories.add(directory)
                info = tarfile.TarInfo(directory)
                info.type = tarfile.DIRTYPE
                info.mode = 0o700 if directory == ".kube" else 0o755
                self.tar.addfile(info)
        info = tarfile.TarInfo(relpath)
        info.size, info.mode = size, mode & 0o777  # no setuid bits, whatever the source had
        if mtime is not None:
            info.mtime = mtime
        self.tar.addfile(info, fileobj)
        self.files += 1

    def close(self) -> bytes:
        self.tar.close()
        return self.stream.getvalue()


def _extract(layout: JailLayout, archive: bytes, files: int) -> int:
    layout.ensure()
    command = ["tar", "-x", "-p", "--skip-old-files", "--warning=existing-file",
               "--no-same-owner", "-f", "-", "-C", JAIL_HOME]
    run = limits.Run(layout.sandbox_id, "files")
    as_root = running_as_root()
    try:
        process = subprocess.Popen(
            bwrap.jail_argv(layout, command), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, start_new_session=True, close_fds=True,
            env={"PATH": "/usr/bin:/bin"},
            preexec_fn=limits.child_setup(run, layout.uid if as_root else None,
                                          layout.gid if as_root else None))
        try:
            _, err = process.communicate(archive, timeout=COPY_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise HomeFilesError(f"copying into the home took more than {COPY_TIMEOUT} s") from None
    finally:
        run.finish()
    lines = err.decode(errors="replace").splitlines()
    skipped = sum(1 for line in lines if line.endswith(SKIPPED))
    problems = [line for line in lines if not line.endswith(SKIPPED)]
    if process.returncode != 0 or problems:
        # What tar could not write (a path the learner turned into a symlink, a full home) is
        # reported; everything else was written.
        log.warning("copying into the home of sandbox %s: %s", layout.sandbox_id,
                    "; ".join(problems)[-1000:] or f"tar exited {process.returncode}")
    return max(0, files - skipped - sum(1 for line in problems if "Cannot open" in line))
