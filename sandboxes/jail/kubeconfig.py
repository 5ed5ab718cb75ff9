"""The kubeconfigs of a jail. The lab's own (written by the lab from the sandbox's admin
kubeconfig, credentials embedded, aimed at the jail's 127.0.0.1:6443) is what scripts use; the
learner's ~/.kube/config is theirs to edit, and the lab takes exactly one thing from it, their
current namespace, as a plain string.

Every kubeconfig the lab loads for its own use goes through load_lab_file: a regular file of the
lab's, mode 0600, with no credential plugin (exec, auth-provider), no token or certificate
file, no proxy and no impersonation, so nothing in it can make the lab run a program or read a
file."""
from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

import yaml

from sandboxes.jail.layout import API_PORT

MAX_BYTES = 256 * 1024
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# Fields that make a kubeconfig's reader run a program, read a file, send its traffic
# elsewhere or act as someone else.
REFUSED_USER_FIELDS = ("exec", "auth-provider", "tokenFile", "client-certificate", "client-key",
                       "as", "as-uid", "as-groups", "as-user-extra", "username", "password")
REFUSED_CLUSTER_FIELDS = ("certificate-authority", "proxy-url")
# What the lab copies into a kubeconfig it writes.
CLUSTER_FIELDS = ("certificate-authority-data", "tls-server-name")
USER_FIELDS = ("client-certificate-data", "client-key-data", "token")


class KubeconfigRefused(ValueError):
    """The lab will not use this kubeconfig; the message names the file and the field."""


def _read(path: Path, label: str, owner: int, dir_fd: int | None = None,
          lab_only: bool = False) -> bytes:
    """The bytes of a regular file owner owns (and, if lab_only, nobody else may write): never
    through a symlink, never blocking on a FIFO, never more than MAX_BYTES."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise KubeconfigRefused(f"{label} is a symbolic link; the lab reads only a plain "
                                    "file there") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise KubeconfigRefused(f"{label} is not a regular file")
        if st.st_size > MAX_BYTES:
            raise KubeconfigRefused(f"{label} is larger than {MAX_BYTES // 1024} KiB")
        if st.st_uid != owner:
            raise KubeconfigRefused(f"{label} belongs to uid {st.st_uid}, not to uid {owner}")
        if lab_only and st.st_mode & 0o022:
            raise KubeconfigRefused(f"{label} may be changed by others (mode "
                                    f"{stat.S_IMODE(st.st_mode):04o}); the lab uses only files it alone writes")
        return os.read(fd, MAX_BYTES + 1)[:MAX_BYTES]
    finally:
        os.close(fd)


def _parse(data: bytes, label: str) -> dict:
    try:
        config = yaml.safe_load(data.decode("utf-8", errors="replace"))
    except (yaml.YAMLError, RecursionError) as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where else ""
        raise KubeconfigRefused(f"{label} is not valid YAML{line}") from None
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise KubeconfigRefused(f"{label} is not a kubeconfig (a mapping at the top)")
    return config


def _entries(config: dict, key: str, inner: str):
    for i, entry in enumerate(config.get(key) or []):
        body = entry.get(inner) if isinstance(entry, dict) else None
        yield i, entry if isinstance(entry, dict) else {}, body if isinstance(body, dict) else {}


def refuse_unsafe(config: dict, label: str) -> None:
    """Raise KubeconfigRefused naming the first field that would make the lab run a program,
    read a file, talk to another host than the server or act as another user."""
    for i, _, user in _entries(config, "users", "user"):
        for name in REFUSED_USER_FIELDS:
            if name in user:
                raise KubeconfigRefused(f"{label}: users[{i}].user.{name} is not allowed (the lab "
                                        "runs no credential plugin and reads no file a kubeconfig names)")
    for i, _, cluster in _entries(config, "clusters", "cluster"):
        for name in REFUSED_CLUSTER_FIELDS:
            if name in cluster:
                raise KubeconfigRefused(f"{label}: clusters[{i}].cluster.{name} is not allowed")


def load_lab_file(path: Path) -> dict:
    """A kubeconfig of the lab's own (a sandbox's admin kubeconfig, 0600 in its root-owned
    sandbox directory): refused unless it is a regular file owned by the lab that nobody else
    may write, free of unsafe fields."""
    path = Path(path)
    label = str(path)
    config = _parse(_read(path, label, os.geteuid(), lab_only=True), label)
    refuse_unsafe(config, label)
    return config


def _current(config: dict, key: str, inner: str, name: str | None) -> dict:
    entries = list(_entries(config, key, inner))
    for _, entry, body in entries:
        if entry.get("name") == name:
            return body
    return entries[0][2] if entries else {}


def current_parts(config: dict) -> tuple[dict, dict, dict]:
    """(cluster, user, context) bodies of the current context, else of the first of each."""
    context = _current(config, "contexts", "context", config.get("current-context"))
    cluster = _current(config, "clusters", "cluster", context.get("cluster"))
    user = _current(config, "users", "user", context.get("user"))
    return cluster, user, context


def api_endpoint(config: dict) -> tuple[str, int]:
    """The (host, port) of the API server a lab kubeconfig names."""
    server = str(current_parts(config)[0].get("server", ""))
    if "://" not in server:
        raise KubeconfigRefused("the sandbox's kubeconfig names no https:// server")
    hostport = server.split("://", 1)[1].split("/", 1)[0]
    host, _, port = hostport.rpartition(":")
    return host.strip("[]"), int(port or 443)


def for_jail(admin: dict, namespace: str = "default") -> str:
    """A kubeconfig with the admin kubeconfig's credentials (only the embedded ones) and names,
    its server the jail's forwarded 127.0.0.1:6443, and the given namespace."""
    cluster, user, _ = current_parts(admin)
    context_entry = next((e for _, e, _ in _entries(admin, "contexts", "context")
                          if e.get("name") == admin.get("current-context")), {})
    context_name = str(context_entry.get("name") or "lab")
    cluster_name = str((context_entry.get("context") or {}).get("cluster") or "lab")
    user_name = str((context_entry.get("context") or {}).get("user") or "lab")
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": context_name,
        "clusters": [{"name": cluster_name, "cluster": {
            "server": f"https://127.0.0.1:{API_PORT}",
            **{k: cluster[k] for k in CLUSTER_FIELDS if k in cluster}}}],
        "users": [{"name": user_name, "user": {k: user[k] for k in USER_FIELDS if k in user}}],
        "contexts": [{"name": context_name, "context": {
            "cluster": cluster_name, "user": user_name, "namespace": namespace}}],
    }
    return yaml.safe_dump(config, sort_keys=False)


def learner_namespace(home: Path, owner_uid: int) -> str:
    """The namespace of the current context in the learner's ~/.kube/config ("default" when they
    have none), and nothing else of that file. Read without following a symlink at any step
    (openat from the home down), and only if the learner owns it."""
    label = "~/.kube/config"
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        home_fd = os.open(home, flags)
    except FileNotFoundError:
        return "default"
    try:
        try:
            kube_fd = os.open(".kube", flags, dir_fd=home_fd)
        except FileNotFoundError:
            return "default"
        except OSError as exc:
            if exc.errno in (errno.ENOTDIR, errno.ELOOP):  # a file or a symlink there
                raise KubeconfigRefused("~/.kube is not a directory") from None
            raise
        try:
            data = _read(Path("config"), label, owner_uid, dir_fd=kube_fd)
        except FileNotFoundError:
            return "default"
        finally:
            os.close(kube_fd)
    finally:
        os.close(home_fd)
    context = current_parts(_parse(data, label))[2]
    namespace = context.get("namespace") or "default"
    if not isinstance(namespace, str) or not DNS_LABEL.match(namespace):
        raise KubeconfigRefused(f"{label}: the current context's namespace {str(namespace)[:80]!r} "
                                "is not a valid namespace name")
    return namespace
