"""Public pages of the kernel: the home page and a health check."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language as django_set_language

from redcross.navigation import public_sections
from redcross.selectors import city_branch, public_branch_directory


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
