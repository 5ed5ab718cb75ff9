"""Check and setup scripts, run inside the learner's jail: bash as their uid, in their home,
under their sandbox's limits, with a kubeconfig the lab wrote (the sandbox's admin credentials,
the learner's current namespace and nothing else of theirs) bound read-only where the learner
cannot change it, and a network that reaches their own API server only, for the script's run."""
from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import time
from pathlib import Path

from sandboxes.jail import bwrap, kubeconfig, limits
from sandboxes.jail.apiproxy import ThreadedApiProxy
from sandboxes.jail.layout import JailLayout, running_as_root

# What a script may print that the lab keeps (the rest is read and dropped, so a script that
# prints forever costs the lab nothing but its timeout).
OUTPUT_LIMIT = 256 * 1024


OUT_OF_PROCESSES = ("Your lab is running as many processes as it may; end some (or wait for "
                    "them) and the check runs again.")


class ScriptRefused(RuntimeError):
    """The script could not be started in the jail; the message says why, for the learner."""


def run(layout: JailLayout, admin: dict, script: str, timeout: float) -> tuple[int | None, str, str]:
    """Run script in the jail of layout, with the credentials of admin (the sandbox's admin
    kubeconfig, loaded by kubeconfig.load_lab_file). Returns (exit code, or None on timeout,
    stdout, stderr). Raises kubeconfig.KubeconfigRefused if the learner's current namespace
    cannot be read, ScriptRefused if the jail cannot start."""
    layout.ensure()
    namespace = kubeconfig.learner_namespace(layout.home, layout.uid)
    run_dir = layout.new_run_dir()
    try:
        _write_lab_kubeconfig(run_dir / "kubeconfig", kubeconfig.for_jail(admin, namespace), layout)
        socket = run_dir / "apiserver.sock"
        owner = layout.uid if running_as_root() else None
        with ThreadedApiProxy(socket, kubeconfig.api_endpoint(admin), owner):
            return _run_jailed(layout, bwrap.script_argv(layout, run_dir, script), timeout)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def _write_lab_kubeconfig(path: Path, text: str, layout: JailLayout) -> None:
    """Root's file, readable by the jail's group only; bound read-only, so even the learner's
    own uid could not change it from inside."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o640)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    if running_as_root():
        os.chown(path, 0, layout.gid)


def _run_jailed(layout: JailLayout, argv: list[str], timeout: float) -> tuple[int | None, str, str]:
    as_root = running_as_root()
    run = layout.limited_run("script")
    try:
        try:
            process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True, close_fds=True, env={"PATH": "/usr/bin:/bin"},
                preexec_fn=limits.child_setup(run, layout.uid if as_root else None,
                                              layout.gid if as_root else None))
        except BlockingIOError:
            raise ScriptRefused(OUT_OF_PROCESSES) from None
        except (OSError, subprocess.SubprocessError) as exc:
            raise ScriptRefused(f"The check could not start in your lab: {exc}") from None
        code, out, err = collect(process, timeout)
        if code and err.startswith("bwrap: ") and "Resource temporarily unavailable" in err:
            raise ScriptRefused(OUT_OF_PROCESSES)  # the jail itself could not fork
        return code, out, err
    finally:
        # The jail's PID namespace ended with its first process; whatever got out of that
        # (nothing should) is killed with its cgroup.
        run.finish()


def collect(process: subprocess.Popen, timeout: float,
            limit: int = OUTPUT_LIMIT) -> tuple[int | None, str, str]:
    """(exit code, or None on timeout, stdout, stderr) of a script, keeping at most limit bytes of
    each stream. On timeout its whole process group is killed."""
    kept = {process.stdout: bytearray(), process.stderr: bytearray()}
    deadline = time.monotonic() + timeout
    timed_out = False
    with selectors.DefaultSelector() as selector:
        for stream in kept:
            selector.register(stream, selectors.EVENT_READ)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            for key, _ in selector.select(remaining):
                data = os.read(key.fd, 65536)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                buffer = kept[key.fileobj]
                buffer += data[:max(0, limit - len(buffer))]
    if timed_out:
        # The whole process group: the jail dies with its first process.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    try:
        code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:  # both streams closed, yet it lingers: end it
        timed_out = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    for stream in kept:
        stream.close()
    return (None if timed_out else code,
            kept[process.stdout].decode(errors="replace"), kept[process.stderr].decode(errors="replace"))
