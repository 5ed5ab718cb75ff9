"""Each cluster's Docker network, marked as this lab instance's, and the host firewall rules that
keep the cluster on it: nothing from the bridge is forwarded anywhere, and nothing from it may
open a connection to the host itself."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

from sandboxes import names
from sandboxes.backends.base import BackendError
from sandboxes.backends.kind.images import FIX_DOCKER
from sandboxes.tools import ToolError, run

# The chains the rules go in: Docker's own hook for forwarded traffic, and the host's INPUT for
# traffic addressed to the host (the bridge's gateway address or any other of the host's).
FORWARD_CHAIN = "DOCKER-USER"
INPUT_CHAIN = "INPUT"


def create_argv(cluster: str, labels: dict[str, str], mtu: int | None) -> list[str]:
    """`docker network create` for a cluster, as kind would make it (a bridge, masquerading, the
    default bridge's MTU) but labelled, and IPv4 only: the node image's CNI gives Pods no IPv6,
    and without it the host's iptables rules below cover every address of the network."""
    argv = ["network", "create", "--driver", "bridge",
            "-o", "com.docker.network.bridge.enable_ip_masquerade=true"]
    if mtu:
        argv += ["-o", f"com.docker.network.driver.mtu={mtu}"]
    for key, value in sorted(labels.items()):
        argv += ["--label", f"{key}={value}"]
    return [*argv, cluster]


def bridge_name(network_id: str) -> str:
    """The host interface of a Docker bridge network (Docker names it after the network's id)."""
    return f"br-{network_id[:12]}"


def rule_comment(cluster: str, what: str) -> str:
    # The colon ends the cluster's name, so one cluster's rules never match another's prefix.
    return f"k8s-lab {cluster}: {what}"


def firewall_rules(cluster: str, bridge: str) -> list[tuple[str, list[str]]]:
    """(chain, rule) pairs for iptables. The first keeps the cluster's traffic on its network:
    nothing from its node (and so from its Pods) is forwarded off the bridge, to the Internet or
    to another cluster. The second keeps it off the host: from the bridge, only replies to
    connections the host opened (the lab reaching the API server's published port, `docker
    exec`, which uses no network at all) come in. Docker's embedded DNS needs no exception: kind
    points the node's resolver at the gateway address and rewrites that, inside the node's own
    network namespace, to Docker's resolver there; no packet of it reaches the host."""
    return [
        (FORWARD_CHAIN, ["-i", bridge, "!", "-o", bridge, "-m", "comment", "--comment",
                         rule_comment(cluster, "no egress"), "-j", "REJECT"]),
        (INPUT_CHAIN, ["-i", bridge, "-m", "conntrack", "!", "--ctstate", "ESTABLISHED,RELATED",
                       "-m", "comment", "--comment", rule_comment(cluster, "no host access"),
                       "-j", "REJECT"]),
    ]


def labels_of(docker: Path, cluster: str) -> dict[str, str] | None:
    """The labels of the cluster's Docker network, or None when there is no such network."""
    try:
        out = run([docker, "network", "inspect", "-f", "{{range $k, $v := .Labels}}{{$k}}={{$v}}\n{{end}}",
                   cluster], timeout=30).stdout
    except ToolError as exc:
        if "no such network" in str(exc).lower() or "not found" in str(exc).lower():
            return None
        raise BackendError(f"could not inspect the Docker network {cluster}: {exc}") from None
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def owned_by_another_instance(labels: dict[str, str] | None) -> bool:
    return labels is not None and names.INSTANCE_LABEL in labels and \
        labels[names.INSTANCE_LABEL] != names.instance_id()


def ensure(docker: Path, cluster: str) -> None:
    """Make the cluster's network, labelled as this instance's, before kind runs (kind then uses
    it). A network of that name that is not this instance's is never adopted."""
    labels = labels_of(docker, cluster)
    if labels is None:
        try:
            run([docker, *create_argv(cluster, names.instance_labels(), _default_mtu(docker))],
                timeout=60)
        except ToolError as exc:
            if "already exists" not in str(exc):
                raise BackendError(f"could not create the Docker network {cluster}: {exc}") from None
        labels = labels_of(docker, cluster)  # a concurrent create of the same name may have won
    if (labels or {}).get(names.INSTANCE_LABEL) != names.instance_id():
        raise BackendError(f"a Docker network named {cluster} exists that this lab instance "
                           f"({names.INSTANCE_LABEL}={names.instance_id()}) did not make; it is "
                           "left alone", permanent=True)


def remove(docker: Path, cluster: str) -> None:
    """Remove the cluster's network; one that is already gone is success."""
    try:
        run([docker, "network", "rm", cluster], timeout=60)
    except ToolError as exc:
        text = str(exc).lower()
        if "not found" not in text and "no such network" not in text:
            raise BackendError(f"could not remove the Docker network {cluster}: {exc}") from None


def owned_networks(docker: Path) -> set[str]:
    """Names of the Docker networks this instance made."""
    try:
        out = run([docker, "network", "ls", "--filter",
                   f"label={names.INSTANCE_LABEL}={names.instance_id()}", "--format", "{{.Name}}"],
                  timeout=30).stdout
    except ToolError as exc:
        raise BackendError(f"could not list Docker networks: {exc}") from None
    return {line.strip() for line in out.splitlines() if line.strip()}


def confine(docker: Path, cluster: str) -> None:
    """Put the cluster's firewall rules in place (each once), first in their chains."""
    iptables = shutil.which("iptables")
    if iptables is None or os.geteuid() != 0:
        raise BackendError("could not confine the cluster's network (needs root and "
                           f"iptables; run {FIX_DOCKER})", permanent=True)
    try:
        network_id = run([docker, "network", "inspect", "-f", "{{.Id}}", cluster],
                         timeout=30).stdout.strip()
    except ToolError as exc:
        raise BackendError(f"could not confine the cluster's network: {exc}") from None
    for chain, rule in firewall_rules(cluster, bridge_name(network_id)):
        if subprocess.run([iptables, "-C", chain, *rule], capture_output=True,
                          timeout=30).returncode != 0:
            try:
                run([iptables, "-I", chain, "1", *rule], timeout=30)
            except ToolError as exc:
                raise BackendError(f"could not confine the cluster's network: {exc}") from None


def release(cluster: str) -> None:
    """Remove every rule of the cluster, found by its comment, so that this works when the
    network is already gone too (and removes a rule a retried create added twice)."""
    iptables = shutil.which("iptables")
    if iptables is None:
        return
    marker = f'--comment "{rule_comment(cluster, "")}'
    for chain in (FORWARD_CHAIN, INPUT_CHAIN):
        listing = subprocess.run([iptables, "-S", chain], capture_output=True, text=True, timeout=30)
        for line in listing.stdout.splitlines():
            if marker in line and line.startswith(f"-A {chain} "):
                subprocess.run([iptables, "-D", *shlex.split(line)[1:]], capture_output=True, timeout=30)


def _default_mtu(docker: Path) -> int | None:
    """The MTU of Docker's default bridge, which kind gives its networks too."""
    try:
        out = run([docker, "network", "inspect", "bridge", "-f",
                   '{{index .Options "com.docker.network.driver.mtu"}}'], timeout=30).stdout.strip()
    except ToolError:
        return None
    return int(out) if out.isdigit() else None
