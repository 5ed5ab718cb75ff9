"""Tier `api`: a real control plane (etcd, kube-apiserver, kube-controller-manager,
kube-scheduler) run as local processes by kwokctl, with kwok making nodes and pods look alive."""
from __future__ import annotations

from pathlib import Path

from django.conf import settings

from sandboxes.backends.base import Backend, BackendError, Progress
from sandboxes.tools import ToolError, tool_path

REQUIRED_BINARIES = ("kwokctl", "kwok", "kube-apiserver", "kube-controller-manager",
                     "kube-scheduler", "etcd", "kubectl")


class KwokBackend(Backend):
    name = "kwok"
    tier = "api"

    def health(self) -> dict:
        missing = []
        for binary in REQUIRED_BINARIES:
            try:
                tool_path(binary)
            except ToolError:
                missing.append(binary)
        if missing:
            return {"ok": False, "error": f"missing {', '.join(missing)} in "
                                          f"{settings.TOOLCHAIN_BIN} (run `make toolchain`)"}
        return {"ok": True}

    def create(self, cluster: str, progress: Progress) -> Path:
        raise BackendError("kwok backend: create is not built yet")

    def delete(self, cluster: str) -> None:
        raise BackendError("kwok backend: delete is not built yet")

    def list_clusters(self) -> list[str]:
        return []

    def kubeconfig(self, cluster: str) -> Path:
        return Path(settings.DATA_DIR) / "kwok" / "clusters" / cluster / "kubeconfig.yaml"
