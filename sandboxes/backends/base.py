"""The interface every sandbox backend implements. Nothing above it knows which tool is used."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

from sandboxes.backends.errors import BackendError
from sandboxes.backends.kubeapi import api_client, readyz

# progress(step, percent, message): what the learner's progress bar shows.
Progress = Callable[[str, int, str], None]
# One health probe of a learner's API server: long enough for a busy machine, short enough that
# probing every ready cluster in turn stays quick.
PROBE_TIMEOUT = 3


class Backend(ABC):
    name: str = ""
    tier: str = ""

    @abstractmethod
    def health(self) -> dict:
        """{"ok": bool, ...details}: can this backend create clusters right now?"""

    @abstractmethod
    def create(self, cluster: str, progress: Progress) -> Path:
        """Create the cluster (or finish creating it) and return its kubeconfig path.
        Creating a cluster that already exists and is healthy is success."""

    @abstractmethod
    def delete(self, cluster: str) -> None:
        """Delete the cluster and everything it left behind. Deleting what is gone is success."""

    @abstractmethod
    def list_clusters(self) -> list[str]:
        """The names of the clusters this backend actually has, managed by this lab or not."""

    @abstractmethod
    def kubeconfig(self, cluster: str) -> Path:
        """Where the cluster's kubeconfig is (it may not exist yet)."""

    def answers(self, cluster: str) -> bool:
        """Does the cluster's API server answer /readyz right now? Anything but a 200 (no
        kubeconfig, a refused connection, a timeout) is no: to the learner it is the same."""
        kubeconfig = self.kubeconfig(cluster)
        try:
            return kubeconfig.is_file() and readyz(api_client(kubeconfig), timeout=PROBE_TIMEOUT)
        except Exception:  # noqa: BLE001 - any failure to answer is the answer
            return False

    def restart(self, cluster: str) -> None:
        """Start again what of the cluster has stopped, keeping what is stored in it. Raises
        BackendError if it cannot; a backend whose tool cannot restart keeps this default."""
        raise BackendError(f"the {self.name} backend cannot restart a cluster", permanent=True)

    def memory_bytes(self, cluster: str) -> int | None:
        """Memory the cluster uses now (resident), if the backend can tell."""
        return None
