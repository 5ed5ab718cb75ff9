"""Site-wide views: sign-up and the health check."""
from django.conf import settings
from django.contrib.auth import login
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

from lab import health
from lab.forms import SignupForm


def safe_next(request) -> str:
    """The ?next= (or posted next) URL if it stays on this site, else "". A link such as
    /accounts/signup/?next=//other.example must never send a new learner to another site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()},
            require_https=settings.HTTPS or request.is_secure()):
        return target
    return ""


def signup(request):
    next_url = safe_next(request)
    if request.user.is_authenticated:
        return redirect(next_url or "catalog")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(next_url or "catalog")
    return render(request, "registration/signup.html", {"form": form, "next": next_url})


@never_cache
def healthz(request):
    healthy, details = health.report()
    return JsonResponse(details, status=200 if healthy else 503)
