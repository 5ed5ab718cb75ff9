"""The one bubblewrap command line of a learner's jail, for their interactive shell, for the
lab's check and setup scripts and for file work in their home.

Inside, they have: a read-only /usr (bash, coreutils, vim, the usual tools), the pinned kubectl
at /opt/lab/bin, their writable home, a private size-limited /tmp, and a network namespace of
their own whose only way out is 127.0.0.1:6443, forwarded over a unix socket to their own API
server. They cannot see the lab's files, database, secret key, other learners' homes, the lab's
Redis or any cluster's etcd. Everything runs as an unprivileged uid, in its own PID namespace
(so nothing outlives the jail's first process), and dies with the lab process that started it.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from django.conf import settings

from sandboxes import tiers
from sandboxes.jail.layout import API_PORT, JAIL_HOME, JAIL_UID, JAIL_USER, JailLayout
from sandboxes.tools import tool_path

BASHRC = Path(settings.BASE_DIR) / "images" / "toolbox" / "bashrc"
PATH = "/opt/lab/bin:/usr/local/bin:/usr/bin:/bin"
# Host paths under /etc the tools inside need; nothing else of /etc is visible.
ETC_PATHS = ("alternatives", "ssl", "ca-certificates", "inputrc", "localtime", "terminfo",
             "bash_completion", "bash_completion.d", "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
             "nsswitch.conf", "vim", "mime.types")
RUN_SIZE = 1024 * 1024
SHM_SIZE = 64 * 1024 * 1024
# Start the jail's one way out (127.0.0.1:6443 -> the lab's socket -> the learner's own API
# server) and wait until it listens (the jail's own /proc/net/tcp: 0100007F:192B is
# 127.0.0.1:6443, 0A is LISTEN), at most two seconds, so a script's first kubectl finds it.
FORWARDER = (
    f"socat TCP-LISTEN:{API_PORT},bind=127.0.0.1,reuseaddr,fork "
    "UNIX-CONNECT:/run/lab/apiserver.sock </dev/null >/dev/null 2>&1 & "
    f"i=0; while [ $i -lt 200 ] && ! grep -q '0100007F:{API_PORT:04X} 00000000:0000 0A' "
    "/proc/net/tcp; do sleep 0.01; i=$((i+1)); done; ")


def shared_files() -> tuple[Path, Path]:
    """kubectl and the bashrc, copied where the jail's unprivileged uid can read them (the
    toolchain lives in root's home, which it cannot enter). Copied again when they change."""
    shared = Path(settings.DATA_DIR) / "jail"
    shared.mkdir(parents=True, exist_ok=True)
    os.chmod(shared, 0o755)
    copies = []
    for source in (tool_path("kubectl"), BASHRC):
        target = shared / source.name
        st = source.stat()
        if not target.exists() or target.stat().st_size != st.st_size or \
                target.stat().st_mtime < st.st_mtime:
            tmp = shared / f".{source.name}.{os.getpid()}"
            shutil.copyfile(source, tmp)
            os.chmod(tmp, 0o755)
            os.replace(tmp, target)
        copies.append(target)
    return copies[0], copies[1]


def jail_argv(layout: JailLayout, command: list[str], env: dict[str, str] | None = None,
              run_dir: Path | None = None, new_session: bool = True) -> list[str]:
    """bwrap's argv for running command in the jail of layout. run_dir (the terminal's or one
    script's: its API socket, maybe the lab's kubeconfig) is bound read-only at /run/lab.
    new_session detaches from any terminal (TIOCSTI); only the interactive shell keeps its PTY."""
    kubectl, bashrc = shared_files()
    argv = [
        shutil.which("bwrap") or "bwrap",
        "--unshare-all", "--die-with-parent", "--hostname", "k8s-lab",
        "--ro-bind", "/usr", "/usr",
        "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
        "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
        "--proc", "/proc", "--dev", "/dev",
        # Every writable place is bounded: /tmp and /run by size, the home by its filesystem.
        "--size", str(settings.JAIL_TMP_BYTES), "--tmpfs", "/tmp",
        "--size", str(SHM_SIZE), "--tmpfs", "/dev/shm",
        "--size", str(RUN_SIZE), "--tmpfs", "/run",
        "--dir", "/etc",
    ]
    for name in ETC_PATHS:
        if Path("/etc", name).exists():
            argv += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    argv += [
        "--ro-bind", str(layout.etc / "passwd"), "/etc/passwd",
        "--ro-bind", str(layout.etc / "group"), "/etc/group",
        "--ro-bind", str(layout.etc / "hosts"), "/etc/hosts",
        "--ro-bind", str(bashrc), "/etc/lab/bashrc",
        "--ro-bind", str(kubectl), "/opt/lab/bin/kubectl",
    ]
    if run_dir is not None:
        argv += ["--ro-bind", str(run_dir), "/run/lab"]
    argv += [
        "--bind", str(layout.home), JAIL_HOME,
        # The jail's own root and /dev are tmpfs too: read-only, so they cannot be filled.
        "--remount-ro", "/dev", "--remount-ro", "/",
        "--chdir", JAIL_HOME,
        "--uid", str(JAIL_UID), "--gid", str(JAIL_UID),
        *(["--new-session"] if new_session else []),
        "--clearenv",
    ]
    base_env = {"HOME": JAIL_HOME, "USER": JAIL_USER, "LOGNAME": JAIL_USER, "SHELL": "/bin/bash",
                "LANG": "C.UTF-8", "PATH": PATH}
    for key, value in {**base_env, **(env or {})}.items():
        argv += ["--setenv", key, value]
    return argv + ["--", *command]


def shell_command(tier: str) -> str:
    """What runs on the terminal inside the jail. On the api tier, the learner's bash itself. On
    the full tier the learner's shell lives in the toolbox pod of their own cluster: the pinned
    kubectl opens it over the Kubernetes exec WebSocket (v5, falling back to v4) and passes
    window resizes on, while the lab keeps its PTY, protocol, resume and flow control."""
    if tiers.get(tier).real_containers:  # its pods run: the shell is the toolbox pod's
        from sandboxes.backends.kind import TOOLBOX_NAMESPACE, TOOLBOX_POD
        return (f"exec kubectl exec -it -n {TOOLBOX_NAMESPACE} {TOOLBOX_POD} -c toolbox "
                "-- bash -il")
    return "exec /bin/bash --rcfile /etc/lab/bashrc -i"


def shell_argv(layout: JailLayout, cols: int, rows: int, tier: str = tiers.DEFAULT) -> list[str]:
    """The learner's interactive shell, with their own editable ~/.kube/config."""
    env = {"TERM": "xterm-256color", "KUBECONFIG": f"{JAIL_HOME}/.kube/config",
           "COLUMNS": str(cols), "LINES": str(rows)}
    return jail_argv(layout, ["/bin/sh", "-c", FORWARDER + shell_command(tier)], env=env,
                     run_dir=layout.run, new_session=False)


def script_argv(layout: JailLayout, run_dir: Path, script: str) -> list[str]:
    """A check or setup script: bash in the learner's home, with the lab's kubeconfig (read-only
    at /run/lab/kubeconfig) instead of theirs."""
    return jail_argv(layout, ["/bin/sh", "-c", FORWARDER + 'exec /bin/bash -c "$1"', "lab-script",
                              script],
                     env={"KUBECONFIG": "/run/lab/kubeconfig"}, run_dir=run_dir)

