"""The error every backend raises: its own module, so the helpers the backend interface uses
(kubeapi) can raise it without importing the interface back."""
from __future__ import annotations


class BackendError(RuntimeError):
    """A backend could not do what was asked; the message is fit to show an operator.
    permanent=True says that trying again cannot help (a missing binary, a bad setting)."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent
