"""The one registry of sandbox tiers: what each is called, which backend makes its clusters, its
capacity, warm pool, create timeout and honest default ETA, and which cluster can serve which
exercise. Templates, JavaScript, the CLI, the course schema and the lifecycle read tiers from
here; nothing else in the project names a tier's properties.

The tiers are ordered: a full cluster (kind, real containers) does everything an API cluster
(kwok) does, so an exercise of the api tier runs on either, and one of the full tier needs a
full cluster. Adding a tier is one backend module and one entry in REGISTRY."""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Tier:
    name: str
    # What a learner calls a cluster of this tier ("API cluster"), and one sentence on what it is.
    label: str
    summary: str
    # The backend class (dotted path: imported only when a cluster of this tier is needed).
    backend: str
    # Seconds a create takes until the lab has timed enough of its own starts to know better.
    default_eta: float
    # How long `manage.py sandbox start --wait` waits by default.
    cli_wait: int
    # Whether its clusters run real containers (logs, exec, real traffic).
    real_containers: bool

    # Operators set these per tier through the environment (lab/settings.py); they are read
    # here, at the time of asking, so a test's settings override holds.
    @property
    def capacity(self) -> int:
        return settings.SANDBOX_CAPACITY.get(self.name, 0)

    @property
    def pool_size(self) -> int:
        return settings.SANDBOX_POOL.get(self.name, 0)

    @property
    def create_timeout(self) -> int:
        return settings.SANDBOX_CREATE_TIMEOUT[self.name]

    @property
    def enabled(self) -> bool:
        """Does this lab offer clusters of this tier?"""
        return self.name in settings.LAB_TIERS

    @property
    def rank(self) -> int:
        return ORDER.index(self.name)


REGISTRY: dict[str, Tier] = {tier.name: tier for tier in (
    Tier(name="api", label="API cluster",
         summary="a real control plane (kube-apiserver, etcd, kube-scheduler, "
                 "kube-controller-manager) with worker nodes simulated by kwok",
         backend="sandboxes.backends.kwok.KwokBackend", default_eta=10.0, cli_wait=180,
         real_containers=False),
    Tier(name="full", label="full cluster",
         summary="a real kind cluster whose Pods run real containers (logs, exec, traffic)",
         backend="sandboxes.backends.kind.KindBackend", default_eta=60.0, cli_wait=900,
         real_containers=True),
)}
ORDER = tuple(REGISTRY)
DEFAULT = ORDER[0]
# Kept for callers that want only the words.
LABELS = {name: tier.label for name, tier in REGISTRY.items()}


def get(name: str) -> Tier:
    """The tier called `name`; KeyError for a name the lab does not know."""
    return REGISTRY[name]


def label(name: str) -> str:
    return REGISTRY[name].label if name in REGISTRY else name


def enabled() -> list[Tier]:
    return [tier for tier in REGISTRY.values() if tier.enabled]


def satisfies(have: str, need: str) -> bool:
    """Can a cluster of tier `have` serve an exercise of tier `need`?"""
    if have not in REGISTRY or need not in REGISTRY:
        return False
    return ORDER.index(have) >= ORDER.index(need)


def serving(need: str) -> list[str]:
    """The tiers whose clusters can serve `need`, the closest match first."""
    return [tier for tier in ORDER if satisfies(tier, need)]


def offered(tier: str) -> bool:
    """Does this lab offer clusters that can serve `tier` at all?"""
    return any(t in settings.LAB_TIERS for t in serving(tier))


def above(tier: str) -> list[str]:
    """The offered tiers that do more than `tier` (what a lab panel may offer to switch to)."""
    return [t for t in serving(tier) if t != tier and REGISTRY[t].enabled]


def closest(sandboxes, need: str):
    """Of these sandboxes, the one that serves `need` with the least machinery, or None."""
    usable = [s for s in sandboxes if satisfies(s.tier, need)]
    return min(usable, key=lambda s: ORDER.index(s.tier), default=None)


def for_page() -> list[dict]:
    """What the browser needs to know of the tiers (names, labels, order), as JSON-able data."""
    return [{"name": t.name, "label": t.label, "summary": t.summary, "rank": t.rank,
             "enabled": t.enabled, "real_containers": t.real_containers}
            for t in REGISTRY.values()]
