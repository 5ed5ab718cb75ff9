"""Who may do what: the one place that says what makes someone an instructor."""
from lab.signals import INSTRUCTORS_GROUP


def is_instructor(user) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return user.groups.filter(name=INSTRUCTORS_GROUP).exists()
