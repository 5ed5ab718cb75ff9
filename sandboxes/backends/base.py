"""The interface every sandbox backend implements. Nothing above it knows which tool is used."""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Callable

# progress(step, percent, message): what the learner's progress bar shows.
Progress = Callable[[str, int, str], None]


class BackendError(RuntimeError):
    """A backend could not do what was asked; the message is fit to show an operator.
    permanent=True says that trying again cannot help (a missing binary, a bad setting)."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


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

    def memory_bytes(self, cluster: str) -> int | None:
        """Memory the cluster uses now (resident), if the backend can tell."""
        return None
