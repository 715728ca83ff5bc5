"""The API's front doors: the open data index at /api/public/ and Swagger UI at /api/docs/.

The index lists every list endpoint that the apps mount under /api/public/, read from the URL
configuration, so an app adding open data appears here without touching the kernel.

Swagger UI is served from the sidecar package's files (no CDN) in the split form: the page
loads its start-up script from a URL instead of an inline ``<script>``, so the site's
Content-Security-Policy (``script-src 'self'``, no ``unsafe-inline``) holds on this page too.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

OPEN_DATA_PREFIX = "api/public/"


class _OpenDataThrottle(AnonRateThrottle):
    scope = "public"


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0].strip() if (text or "").strip() else ""


def open_data_endpoints() -> list[tuple[str, str, str]]:
    """(name, path, description) of each list endpoint under /api/public/, in URL order."""
    endpoints = []
    for top in get_resolver().url_patterns:
        if not (isinstance(top, URLResolver) and str(top.pattern) == OPEN_DATA_PREFIX):
            continue
        for pattern in top.url_patterns:
            if not isinstance(pattern, URLPattern) or not (pattern.name or "").endswith("-list"):
                continue
            viewset = getattr(pattern.callback, "cls", None)
            name = pattern.name.removesuffix("-list").removeprefix("public-")
            endpoints.append((name, reverse(pattern.name), _first_line(getattr(viewset, "__doc__", ""))))
    return endpoints


class OpenDataIndex(APIView):
    """公开数据接口: the open data endpoints (read-only, no login, throttled) and where they are documented."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [_OpenDataThrottle]

    @extend_schema(
        summary="Open data index",
        responses={200: OpenApiResponse(response=OpenApiTypes.OBJECT, description="endpoints and documentation links")},
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                "endpoints": [
                    {"name": name, "url": request.build_absolute_uri(path), "description": description}
                    for name, path, description in open_data_endpoints()
                ],
                "documentation": request.build_absolute_uri(reverse("api-docs")),
                "schema": request.build_absolute_uri(reverse("api-schema")),
            }
        )


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI with its script loaded from a URL (``?script``), and no inline style."""

    template_name = "api/swagger_ui.html"
