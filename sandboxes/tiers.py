"""Which cluster can serve which exercise. The tiers are ordered: a full cluster (kind, real
containers) does everything an API cluster (kwok) does, so an exercise of the api tier runs on
either, and one of the full tier needs a full cluster."""
from __future__ import annotations

from django.conf import settings

ORDER = ("api", "full")
LABELS = {"api": "API cluster", "full": "full cluster"}


def satisfies(have: str, need: str) -> bool:
    """Can a cluster of tier `have` serve an exercise of tier `need`?"""
    if have not in ORDER or need not in ORDER:
        return False
    return ORDER.index(have) >= ORDER.index(need)


def serving(need: str) -> list[str]:
    """The tiers whose clusters can serve `need`, the closest match first."""
    return [tier for tier in ORDER if satisfies(tier, need)]


def offered(tier: str) -> bool:
    """Does this lab offer clusters that can serve `tier` at all?"""
    return any(t in settings.LAB_TIERS for t in serving(tier))


def closest(sandboxes, need: str):
    """Of these sandboxes, the one that serves `need` with the least machinery, or None."""
    usable = [s for s in sandboxes if satisfies(s.tier, need)]
    return min(usable, key=lambda s: ORDER.index(s.tier), default=None)
