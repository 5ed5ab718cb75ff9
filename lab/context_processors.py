from django.conf import settings

from lab.roles import is_instructor


def site(request):
    return {
        "site_name": settings.SITE_NAME,
        "is_instructor": is_instructor(request.user) if hasattr(request, "user") else False,
    }
