"""Public pages of the kernel: the home page and a health check."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language as django_set_language
from rest_framework.exceptions import NotFound

from redcross.navigation import public_sections
from redcross.selectors import city_branch, public_branch_directory


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A 404 in the API's own format under /api/ (a client reads JSON there, also for a URL no
    route matches); the site's page everywhere else."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(NotFound.default_detail)}, status=404)
    return defaults.page_not_found(request, exception)


def home(request: HttpRequest) -> HttpResponse:
    from donations.selectors.campaigns import home_figures

    city = city_branch()
    return render(
        request,
        "public/home.html",
        {
            "city": city,
            "sections": public_sections(),
            "directory": public_branch_directory(city) if city else [],
            "figures": home_figures(),
        },
    )


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """For the load balancer: the database answers. Redis being down is not fatal here."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"database": "down"}, status=503)
    return JsonResponse({"database": "ok"})


# Choosing the language only sets a cookie for the page's own visitor: there is nothing for a
# forged request to gain, and without a CSRF token in every page's language form the public
# pages can be cached whole, which is what keeps them fast in a surge.
set_language = csrf_exempt(django_set_language)
