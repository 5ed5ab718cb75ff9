"""Tier `full`: a kind cluster (Kubernetes in Docker) with real pods."""
from __future__ import annotations

from pathlib import Path

from django.conf import settings

from sandboxes.backends.base import Backend, BackendError, Progress
from sandboxes.tools import ToolError, run, tool_path


class KindBackend(Backend):
    name = "kind"
    tier = "full"

    def health(self) -> dict:
        try:
            tool_path("kind")
            docker = tool_path("docker")
        except ToolError as exc:
            return {"ok": False, "error": str(exc)}
        try:
            run([docker, "info", "--format", "{{.ServerVersion}}"], timeout=10)
        except ToolError as exc:
            return {"ok": False, "error": f"Docker is not reachable: {exc}"}
        return {"ok": True}

    def create(self, cluster: str, progress: Progress) -> Path:
        raise BackendError("kind backend: create is not built yet")

    def delete(self, cluster: str) -> None:
        raise BackendError("kind backend: delete is not built yet")

    def list_clusters(self) -> list[str]:
        return []

    def kubeconfig(self, cluster: str) -> Path:
        return Path(settings.DATA_DIR) / "kind" / cluster / "kubeconfig"
