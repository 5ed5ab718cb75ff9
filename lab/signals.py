"""Makes sure the groups the lab relies on exist after every migrate."""
from django.db.models.signals import post_migrate
from django.dispatch import receiver

INSTRUCTORS_GROUP = "instructors"


@receiver(post_migrate)
def ensure_groups(sender, **kwargs):
    # post_migrate is sent per app that has models; lab has none, so hook on auth's.
    if sender.label != "auth":
        return
    from django.contrib.auth.models import Group

    Group.objects.get_or_create(name=INSTRUCTORS_GROUP)
