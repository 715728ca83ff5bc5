"""Public pages of the kernel: the home page, a health check and the error pages (404, 403, 500)."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language as django_set_language
from rest_framework.exceptions import APIException, NotFound
from rest_framework.exceptions import PermissionDenied as PermissionDeniedError

from redcross.navigation import public_sections
from redcross.selectors import city_branch, public_branch_directory


def _in_admin(request: HttpRequest) -> bool:
    """A staff member inside the admin: the error is shown in the admin's frame, with the way back
    to the workbench."""
    user = getattr(request, "user", None)
    return request.path.startswith("/admin/") and bool(user and user.is_active and user.is_staff)


def _admin_error(request: HttpRequest, template: str, status: int) -> HttpResponse:
    from django.contrib import admin

    return TemplateResponse(request, template, admin.site.each_context(request), status=status).render()


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A 404 in the API's own format under /api/ (a client reads JSON there, also for a URL no
    route matches); the admin's page for staff in the admin; the site's page everywhere else."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(NotFound.default_detail)}, status=404)
    if _in_admin(request):
        return _admin_error(request, "admin/404.html", 404)
    return defaults.page_not_found(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """403: a staff member without the permission (a read-only user on an add page) sees the admin's
    page saying so, with the way back to the workbench; the public sees the site's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(PermissionDeniedError.default_detail)}, status=403)
    if _in_admin(request):
        return _admin_error(request, "admin/403.html", 403)
    return defaults.permission_denied(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """500: rendered without the request's context, the database or the cache (any of them may be
    what failed), in the language the request already chose."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(APIException.default_detail)}, status=500)
    admin_page = request.path.startswith("/admin/")
    template = loader.get_template("admin/500.html" if admin_page else "500.html")
    context = {"site_header": gettext("管理系统")} if admin_page else {}
    return HttpResponseServerError(template.render(context))


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
