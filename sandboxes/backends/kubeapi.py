"""Talking to a sandbox's Kubernetes API from the lab: a client per kubeconfig, with timeouts."""
from __future__ import annotations

from pathlib import Path

from sandboxes.backends.errors import BackendError
from sandboxes.polling import TimedOut, describe, poll

REQUEST_TIMEOUT = 5


def api_client(kubeconfig: Path):
    from kubernetes import config

    client = config.new_client_from_config(config_file=str(kubeconfig))
    # Every call gets a timeout: a dead cluster must never hang a worker or a page.
    client.configuration.retries = 0
    return client


def readyz(client, timeout: float = REQUEST_TIMEOUT) -> bool:
    """True when the API server answers /readyz with 200 (kwokctl's exit code is no proof)."""
    url = client.configuration.host + "/readyz"
    response = client.call_api("GET", url, header_params={"Accept": "text/plain"},
                               _request_timeout=timeout)
    return response.status == 200


def wait_until(predicate, deadline: float, what: str, interval: float = 0.25, fatal=()):
    """Poll predicate until it returns something truthy or the monotonic deadline passes.
    Exceptions of the types in fatal end the wait at once; others mean "not yet"."""
    try:
        return poll(predicate, deadline, interval, fatal)
    except TimedOut as timeout:
        reason = f": {describe(timeout.last_error)}" if timeout.last_error else ""
        raise BackendError(f"timed out waiting for {what}{reason}") from None
