"""The public AED pages (mounted at /training/): the nearest AEDs to the visitor, or a district's,
and the GeoJSON export with OpenStreetMap's tags.

Only the device and its place are shown: no checker, no serial number, no phone. A request with a
location carries where the visitor stands: its answer is never cached and never indexed (the page's
script sends the position rounded to about 100 m).
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from training.selectors.aeds import (
    aed_geojson_features,
    aeds_by_place,
    district_by_code,
    district_choices,
    nearest_aeds,
    parse_coordinate,
)


def _messages(error: ValidationError) -> list[str]:
    return [str(message) for message in error.messages]


@require_safe
def aed_list(request: HttpRequest) -> HttpResponse:
    located = "lat" in request.GET or "lng" in request.GET
    cursor = request.GET.get("cursor", "")
    context = {"districts": district_choices(), "district": None, "aeds": [], "located": located, "next_cursor": ""}
    status = 200
    try:
        if request.GET.get("district"):
            context["district"] = district_by_code(request.GET["district"])
        if located:
            lat = parse_coordinate(request.GET.get("lat"), field="lat", limit=90)
            lng = parse_coordinate(request.GET.get("lng"), field="lng", limit=180)
            context["aeds"] = nearest_aeds(lat, lng, district=context["district"])
        else:
            page = aeds_by_place(district=context["district"], cursor=cursor)
            context["aeds"], context["next_cursor"] = page.aeds, page.next_cursor
            context["is_first_page"] = not cursor
    except ValidationError as error:
        context["errors"], context["located"], status = _messages(error), False, 400
    response = render(request, "training/aeds.html", context, status=status)
    if located:
        patch_cache_control(response, private=True, no_store=True)
        response.headers["X-Robots-Tag"] = "noindex"
    return response


@require_safe
def aed_geojson(request: HttpRequest) -> HttpResponse:
    """Every public AED (or a district's) as a GeoJSON FeatureCollection (RFC 7946)."""
    district = None
    if request.GET.get("district"):
        try:
            district = district_by_code(request.GET["district"])
        except ValidationError as error:
            body = json.dumps({"errors": {"district": _messages(error)}}, ensure_ascii=False)
            return HttpResponse(body, status=400, content_type="application/json; charset=utf-8")
    collection = {"type": "FeatureCollection", "features": list(aed_geojson_features(district=district))}
    response = HttpResponse(
        json.dumps(collection, ensure_ascii=False, separators=(",", ":")),
        content_type="application/geo+json; charset=utf-8",
    )
    response.headers["Content-Disposition"] = 'inline; filename="aeds.geojson"'
    response.headers["Access-Control-Allow-Origin"] = "*"  # open data: any map may load it
    return response
