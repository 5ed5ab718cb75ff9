"""Putting files into a learner's home, done as the learner, inside their jail: the lab builds a
tar stream from files of its own, and GNU tar, running as the learner's uid and seeing nothing
of the host but the home, extracts it. A symlink the learner left (~/.kube -> /etc, an asset's
path -> /root/...) can then only ever point inside their own jail, where nothing is the lab's."""
from __future__ import annotations

import io
import logging
import re
import subprocess
import tarfile
import time
from pathlib import Path

from sandboxes.jail import bwrap, limits
from sandboxes.jail.layout import JAIL_HOME, JailGone, JailLayout, running_as_root

log = logging.getLogger(__name__)
COPY_TIMEOUT = 60
SKIPPED = ": skipping existing file"
TAR_SAID = re.compile(r"^tar: (?P<name>.+?): (skipping existing file|Cannot open: .*)$")


class HomeFilesError(RuntimeError):
    """The files could not be put into the home; the message says what tar said."""


def write_files(layout: JailLayout, files: list[tuple[str, bytes, int]]) -> int:
    """Write (path relative to the home, content, mode) files the learner does not have yet
    (never replacing one of theirs). Returns how many were written."""
    archive = _Archive()
    for relpath, data, mode in files:
        archive.add(relpath, io.BytesIO(data), len(data), mode, int(time.time()))
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
        self.files: list[str] = []

    def add(self, relpath: str, fileobj, size: int, mode: int, mtime: int) -> None:
        parts = relpath.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            directory = "/".join(parts[:i])
            if directory not in self.directories:
                self.directories.add(directory)
                info = tarfile.TarInfo(directory)
                info.type = tarfile.DIRTYPE
                info.mode = 0o700 if directory == ".kube" else 0o755
                info.mtime = int(time.time())
                self.tar.addfile(info)
        info = tarfile.TarInfo(relpath)
        # Permission bits only: no setuid bit, whatever the source had.
        info.size, info.mode, info.mtime = size, mode & 0o777, mtime
        self.tar.addfile(info, fileobj)
        self.files.append(relpath)

    def close(self) -> bytes:
        self.tar.close()
        return self.stream.getvalue()


def _extract(layout: JailLayout, archive: bytes, files: list[str]) -> int:
    """Run tar in the jail on archive; returns how many of files it wrote."""
    try:
        layout.ensure()
    except JailGone as exc:
        raise HomeFilesError(str(exc)) from None
    command = ["tar", "-x", "-p", "--skip-old-files", "--warning=existing-file",
               "--no-same-owner", "-f", "-", "-C", JAIL_HOME]
    run = layout.limited_run("files")
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
    except BlockingIOError:
        raise HomeFilesError("the lab is running as many processes as it may") from None
    except (OSError, subprocess.SubprocessError) as exc:
        raise HomeFilesError(f"tar could not start in the jail: {exc}") from None
    finally:
        run.finish()
    # "tar: NAME: skipping existing file" (one of the learner's, kept), "tar: NAME: Cannot
    # open: ..." (a path the learner made a symlink to nowhere, a full home): not written.
    not_written, problems = set(), []
    for line in err.decode(errors="replace").splitlines():
        match = TAR_SAID.match(line)
        if match:
            not_written.add(match.group("name"))
        if not line.endswith(SKIPPED):
            problems.append(line)
    if process.returncode != 0 or problems:
        log.warning("copying into the home of sandbox %s: %s", layout.sandbox_id,
                    "; ".join(problems)[-1000:] or f"tar exited {process.returncode}")
    return sum(1 for name in files if name not in not_written)
