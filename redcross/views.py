"""Public pages of the kernel: the home page and a health check."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

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
