"""The learner's local shell, confined with bubblewrap.

Inside the jail the learner has: a read-only /usr (so bash, coreutils, vim and the usual tools
work), the pinned kubectl, a private writable home that survives terminal restarts, a private
/tmp, and a network namespace of its own whose only way out is 127.0.0.1:6443, forwarded (over a
unix socket) to their own API server. They cannot see the lab's files, database, secret key,
other learners' homes, the lab's Redis or any other cluster's etcd. The shell runs as an
unprivileged uid, in its own PID namespace, and dies with the terminal server.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import yaml
from django.conf import settings

from sandboxes.tools import tool_path

JAIL_HOME = "/home/learner"
JAIL_USER = "learner"
JAIL_UID = 1000
API_PORT = 6443
BASHRC = Path(settings.BASE_DIR) / "images" / "toolbox" / "bashrc"
# Host paths under /etc the tools inside need; nothing else of /etc is visible.
ETC_PATHS = ("alternatives", "ssl", "ca-certificates", "inputrc", "localtime", "terminfo",
             "bash_completion", "bash_completion.d", "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
             "nsswitch.conf", "vim", "mime.types")


def host_uid(sandbox_id) -> int:
    """A distinct unprivileged uid per sandbox (no account needed), so even a process that got
    out of its namespaces would own nothing of any other learner's or of the lab's."""
    digest = int(hashlib.sha256(str(sandbox_id).encode()).hexdigest(), 16)
    return settings.TERMINAL_UID_BASE + digest % 60000


class JailLayout:
    """The host-side files of one sandbox's shell."""

    def __init__(self, sandbox_dir: Path, sandbox_id):
        self.root = Path(sandbox_dir)
        self.home = self.root / "home"
        self.etc = self.root / "etc"
        self.run = self.root / "run"
        self.api_socket = self.run / "apiserver.sock"
        self.uid = host_uid(sandbox_id) if os.geteuid() == 0 else os.geteuid()
        self.gid = self.uid if os.geteuid() == 0 else os.getegid()

    @property
    def kubeconfig(self) -> Path:
        """The kubeconfig the learner's kubectl uses (and edits: `kubectl config
        set-context --current --namespace=staging` writes here)."""
        return self.home / ".kube" / "config"

    def prepare(self, admin_kubeconfig: Path) -> None:
        for directory in (self.home, self.home / ".kube", self.etc, self.run):
            directory.mkdir(parents=True, exist_ok=True)
        if not self.kubeconfig.exists():
            self.kubeconfig.write_text(jail_kubeconfig(admin_kubeconfig))
            os.chmod(self.kubeconfig, 0o600)
        bashrc = self.home / ".bashrc"
        if not bashrc.exists():
            bashrc.write_text("# Your own settings go here; the lab's are in /etc/lab/bashrc.\n")
        (self.etc / "passwd").write_text(
            f"root:x:0:0:root:/root:/usr/sbin/nologin\n"
            f"{JAIL_USER}:x:{JAIL_UID}:{JAIL_UID}:Learner:{JAIL_HOME}:/bin/bash\n")
        (self.etc / "group").write_text(f"root:x:0:\n{JAIL_USER}:x:{JAIL_UID}:\n")
        (self.etc / "hosts").write_text("127.0.0.1 localhost k8s-lab\n")
        if os.geteuid() == 0:
            for path in [self.home, *self.home.rglob("*")]:
                os.lchown(path, self.uid, self.gid)
            os.chown(self.run, 0, 0)
            os.chmod(self.run, 0o755)


def jail_kubeconfig(admin_kubeconfig: Path) -> str:
    """The sandbox's kubeconfig (credentials already embedded) with the server rewritten to the
    address the jail can reach (the forwarded port)."""
    config = yaml.safe_load(Path(admin_kubeconfig).read_text())
    for cluster in config.get("clusters", []):
        cluster["cluster"]["server"] = f"https://127.0.0.1:{API_PORT}"
    for context in config.get("contexts", []):
        context["context"].setdefault("namespace", "default")
    return yaml.safe_dump(config, sort_keys=False)


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


def shell_command(tier: str) -> str:
    """What runs on the terminal inside the jail. On the api tier, the learner's bash itself. On
    the full tier the learner's shell lives in the toolbox pod of their own cluster: the pinned
    kubectl opens it over the Kubernetes exec WebSocket (v5, falling back to v4) and passes
    window resizes on, while the lab keeps its PTY, protocol, resume and flow control."""
    if tier == "full":
        from sandboxes.backends.kind import TOOLBOX_NAMESPACE, TOOLBOX_POD
        return (f"exec kubectl exec -it -n {TOOLBOX_NAMESPACE} {TOOLBOX_POD} -c toolbox "
                "-- bash -il")
    return "exec /bin/bash --rcfile /etc/lab/bashrc -i"


def command(layout: JailLayout, cols: int, rows: int, tier: str = "api") -> list[str]:
    """The bwrap command line that starts the learner's shell."""
    kubectl, bashrc = shared_files()
    argv = [
        shutil.which("bwrap") or "bwrap",
        "--unshare-all", "--die-with-parent", "--hostname", "k8s-lab",
        "--ro-bind", "/usr", "/usr",
        "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
        "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
        "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/run",
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
        "--ro-bind", str(layout.run), "/run/lab",
        "--bind", str(layout.home), JAIL_HOME,
        "--chdir", JAIL_HOME,
        "--uid", str(JAIL_UID), "--gid", str(JAIL_UID),
        "--clearenv",
        "--setenv", "HOME", JAIL_HOME, "--setenv", "USER", JAIL_USER,
        "--setenv", "LOGNAME", JAIL_USER, "--setenv", "SHELL", "/bin/bash",
        "--setenv", "TERM", "xterm-256color", "--setenv", "LANG", "C.UTF-8",
        "--setenv", "PATH", "/opt/lab/bin:/usr/local/bin:/usr/bin:/bin",
        "--setenv", "KUBECONFIG", f"{JAIL_HOME}/.kube/config",
        "--setenv", "COLUMNS", str(cols), "--setenv", "LINES", str(rows),
        "--",
        "/bin/sh", "-c",
        # The only way out of the jail's network: 127.0.0.1:6443 -> the lab's socket -> the
        # learner's own API server.
        f"socat TCP-LISTEN:{API_PORT},bind=127.0.0.1,reuseaddr,fork UNIX-CONNECT:/run/lab/"
        f"apiserver.sock 2>/dev/null & {shell_command(tier)}",
    ]
    return argv
