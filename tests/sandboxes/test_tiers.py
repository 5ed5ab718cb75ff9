"""Which cluster serves which exercise: a full cluster serves api exercises too, never the
other way round; a tier the lab does not offer makes its exercises optional."""
from types import SimpleNamespace

from sandboxes import tiers


def test_a_full_cluster_serves_both_tiers_and_an_api_cluster_only_its_own():
    assert tiers.satisfies("api", "api") and tiers.satisfies("full", "api")
    assert tiers.satisfies("full", "full") and not tiers.satisfies("api", "full")
    assert not tiers.satisfies("gpu", "api") and not tiers.satisfies("api", "gpu")
    assert tiers.serving("api") == ["api", "full"] and tiers.serving("full") == ["full"]


def test_the_closest_cluster_is_chosen():
    api, full = SimpleNamespace(tier="api"), SimpleNamespace(tier="full")
    assert tiers.closest([full, api], "api") is api
    assert tiers.closest([api], "full") is None
    assert tiers.closest([api, full], "full") is full
    assert tiers.closest([], "api") is None


def test_offered_follows_the_lab_settings(settings):
    settings.LAB_TIERS = ["api"]
    assert tiers.offered("api") and not tiers.offered("full")
    settings.LAB_TIERS = ["full"]
    assert tiers.offered("api") and tiers.offered("full")
