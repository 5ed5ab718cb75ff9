"""Site-wide views: sign-up and the health check."""
from django.contrib.auth import login
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from lab import health
from lab.forms import SignupForm


def signup(request):
    if request.user.is_authenticated:
        return redirect("catalog")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(request.GET.get("next") or "catalog")
    return render(request, "registration/signup.html", {"form": form})


@never_cache
def healthz(request):
    healthy, details = health.report()
    return JsonResponse(details, status=200 if healthy else 503)
