"""A learner's home on a filesystem of its own: a sparse ext4 image of JAIL_HOME_BYTES,
loop-mounted nosuid,nodev on the home directory, so a full home is the learner's own "No space
left on device" and never the lab's or another learner's. (A separate filesystem also means no
hard link from the home can reach any other file of the host.) Where this host cannot do it (the
lab is not root, there is no loop device), the home is a plain directory and a warning says so
once per process: unbounded, never silently."""
from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)
TOOL_DIRS = ("/usr/sbin", "/sbin", "/usr/bin", "/bin")
_warned: set[str] = set()


class HomeFsError(RuntimeError):
    """Making or mounting a home filesystem failed; the message says what the tool said."""


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    return next((str(Path(d, name)) for d in TOOL_DIRS if Path(d, name).is_file()), None)


def unavailable_reason() -> str | None:
    """Why homes cannot be bounded on this host, or None when they can."""
    if os.geteuid() != 0:
        return "the lab does not run as root, and mounting a home filesystem needs root"
    if not Path("/dev/loop-control").exists():
        return "this host has no loop devices (/dev/loop-control is missing)"
    for name in ("mkfs.ext4", "mount", "umount"):
        if _tool(name) is None:
            return f"{name} is not installed"
    return None


def is_bounded(home: Path) -> bool:
    return os.path.ismount(home)


def ensure(home: Path, image: Path, uid: int, gid: int) -> bool:
    """Make sure the home exists, is the learner's and is mode 0700; mount its filesystem if this
    host can (True when the home is bounded). The caller holds the jail's lock (several
    processes may ask at once: the web's terminal, a worker's setup script)."""
    if is_bounded(home):
        return True
    reason = unavailable_reason()
    if reason is None:
        try:
            _mount(home, image, uid, gid)
            return True
        except (OSError, subprocess.SubprocessError, HomeFsError) as exc:
            reason = f"mounting {image} failed: {exc}"
    if reason not in _warned:
        _warned.add(reason)
        log.warning("learners' homes are NOT size-limited: %s", reason)
    _own(home, uid, gid)
    return False


def release(home: Path) -> None:
    """Unmount a home's filesystem (its loop device detaches with it: mounted with autoclear).
    A mount still in use by a process of the host is detached lazily."""
    if not is_bounded(home):
        return
    umount = _tool("umount") or "umount"
    result = subprocess.run([umount, str(home)], capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        subprocess.run([umount, "-l", str(home)], capture_output=True, text=True, timeout=30)


def _own(home: Path, uid: int, gid: int) -> None:
    """The home directory itself: created by the lab in its own (root-owned) sandbox directory,
    so it is never a learner's symlink; the learner's, mode 0700."""
    home.mkdir(mode=0o700, exist_ok=True)
    st = os.lstat(home)
    if not os.path.isdir(home) or os.path.islink(home):
        raise HomeFsError(f"{home} is not a directory")
    if os.geteuid() == 0 and (st.st_uid, st.st_gid) != (uid, gid):
        os.lchown(home, uid, gid)
    os.chmod(home, 0o700)


def _run(argv: list[str], timeout: float, **kwargs) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kwargs)
    if result.returncode != 0:
        said = (result.stderr or result.stdout).strip()[-300:]
        raise HomeFsError(f"{Path(argv[0]).name} exited {result.returncode}: {said}")


def _mount(home: Path, image: Path, uid: int, gid: int) -> None:
    fresh = not image.exists()
    if fresh:
        _make_image(image, uid, gid)
    earlier = None
    if home.is_dir() and not home.is_symlink() and any(home.iterdir()):
        # A home from before homes had their own filesystem: move it aside, copy it in below.
        earlier = home.with_name("home.before-fs")
        os.rename(home, earlier)
    try:
        home.mkdir(mode=0o700, exist_ok=True)
        _run([_tool("mount") or "mount", "-t", "ext4", "-o", "loop,nosuid,nodev,noatime",
              str(image), str(home)], timeout=60)
    except BaseException:
        if earlier is not None:
            with contextlib.suppress(OSError):
                home.rmdir()
            os.rename(earlier, home)
        raise
    if fresh:
        # mkfs's lost+found would be the one thing in a new learner's `ls ~` they did not make.
        with contextlib.suppress(OSError):
            (home / "lost+found").rmdir()
    os.chown(home, uid, gid)
    os.chmod(home, 0o700)
    if earlier is not None:
        _migrate(earlier, home, uid, gid)


def _make_image(image: Path, uid: int, gid: int) -> None:
    tmp = image.with_name(f".{image.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.ftruncate(fd, settings.JAIL_HOME_BYTES)  # sparse: host disk is used as files are
    finally:
        os.close(fd)
    try:
        _run([_tool("mkfs.ext4") or "mkfs.ext4", "-q", "-F", "-m", "0",
              "-E", f"root_owner={uid}:{gid},lazy_itable_init=1,lazy_journal_init=1", str(tmp)],
             timeout=120)
        os.replace(tmp, image)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _migrate(earlier: Path, home: Path, uid: int, gid: int) -> None:
    """Copy an earlier home into the new filesystem as the learner (cp -a copies their symlinks
    as symlinks and can write nothing the learner could not); keep it where it is if that fails,
    so nothing of theirs is lost."""
    try:
        _run([_tool("cp") or "cp", "-a", "--", f"{earlier}/.", f"{home}/"], timeout=300,
             user=uid, group=gid, extra_groups=[])
    except (OSError, subprocess.SubprocessError, HomeFsError) as exc:
        log.warning("could not move the earlier home %s into its filesystem (%s); it is kept",
                    earlier, exc)
        return
    shutil.rmtree(earlier, ignore_errors=True)
