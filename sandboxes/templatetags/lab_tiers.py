"""Template filters that read the tier registry, so no template names a tier's properties."""
from django import template

from sandboxes import tiers

register = template.Library()


@register.filter
def tier_label(name: str) -> str:
    """"API cluster", "full cluster": what a learner calls a cluster of this tier."""
    return tiers.label(name)


@register.filter
def tier_summary(name: str) -> str:
    return tiers.get(name).summary if name in tiers.REGISTRY else ""


@register.filter
def real_containers(name: str) -> bool:
    return name in tiers.REGISTRY and tiers.get(name).real_containers


@register.filter
def is_default_tier(name: str) -> bool:
    return name == tiers.DEFAULT
