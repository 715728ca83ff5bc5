"""Schemathesis fuzz run over the open data API (the GET operations under /api/public/ in the OpenAPI schema).

Every operation is fuzzed with schema-valid (positive) and schema-breaking (negative) input, then sent a fixed
set of hostile values (SQL and HTML fragments, 10,000-character strings, forged and past-the-end cursors, page
numbers past the end). Every answer must be a documented status (200, or 400 for a refused filter, or 404 for an
unknown id), never a 5xx; a 200 must match the response schema; no body may carry a tag the request sent, and no
JSON body a ``<script``. Hostile search terms and filters get a 400 or an empty result.

The requests go in-process to Django's WSGI handler inside the test's transaction, on the demo data (so lists
return rows and detail pages are found).
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from urllib.parse import quote

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from donations.api.public import PublicThrottle
from donations.models import Bulletin, BulletinStatus, Campaign, Donation, DonationStatus
from donations.selectors.honor_roll import encode_cursor
from redcross.pagination import encode_cursor as encode_signed_cursor
from tests.disclosure.test_no_personal_data import demo  # noqa: F401  (the demo data fixture)

pytestmark = pytest.mark.django_db

PREFIX = "/api/public/"
MAX_EXAMPLES = 30  # per operation and generation mode
EXPECTED_OPERATIONS = {
    "GET /api/public/",  # the index of the open data endpoints (issue 13)
    "GET /api/public/allocations/",
    "GET /api/public/bulletins/",
    "GET /api/public/bulletins/{id}/",
    "GET /api/public/campaigns/",
    "GET /api/public/campaigns/{slug}/",
    "GET /api/public/donations/",
    "GET /api/public/donations/{serial}/",
}

# a tag that would run if a page echoed it: <script ...> or any tag with an on...= handler
DANGEROUS_TAG = re.compile(r"<\s*script\b[^<>]*>?|<[a-z][^<>]*\bon[a-z]+\s*=[^<>]*>?", re.IGNORECASE)

# search and filter values that must come back as a 400 or an empty result
INJECTIONS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' OR '1'='1",
    "' OR 1=1 --",
    "1; DROP TABLE donations_donation; --",
    "%' UNION SELECT username, password FROM redcross_user --",
    "x" * 10_000,
    "捐" * 10_000,
    "a\x00b",
    "\u202e\u0000",
]
# odd but harmless values: they may match rows, they must not break anything
ODD = ["", " ", "%", "_", "\\", "../../etc/passwd", "%00", "-1", "0", "99999999999999999999", "1e309", "NaN",
       "2020-02-30", "9999-12-31", "0001-01-01", "null", "[]", "{}", "\ud7ff", "\U0001f600" * 100]  # fmt: skip


def public_schema() -> dict:
    """The project's OpenAPI schema cut down to the /api/public/ GET operations, as served: the
    paged lists document one page object and every refusal (400, 404) the views give, so the
    status code and response checks hold the API to exactly what it documents."""
    raw = SchemaGenerator().get_schema(request=None, public=True)
    paths = {
        path: {"get": item["get"]} for path, item in raw["paths"].items() if path.startswith(PREFIX) and "get" in item
    }
    return {**raw, "paths": paths}


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in _strings(key) + _strings(item)]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    return []


def no_injected_markup(ctx, response, case):
    """No body echoes a dangerous tag the request sent; no JSON body carries a <script at all."""
    body = response.content.decode("utf-8", "replace")
    sent = _strings(case.query) + _strings(case.path_parameters)
    for value in sent:
        for tag in DANGEROUS_TAG.findall(value):
            assert tag not in body, f"the response echoes {tag!r}"
    content_type = ",".join(response.headers.get("content-type", []))
    if "json" in content_type:
        assert "<script" not in body.lower(), "a JSON body carries <script"
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    no_injected_markup,
]


@pytest.fixture
def app(monkeypatch):
    """Django's WSGI handler, called in the test's thread and transaction.

    Like Django's test client, keep the handler from closing the connection at each request's start and end
    (that would close the connection holding the test transaction), and lift the public throttle, which
    would otherwise answer 429 to a few hundred requests a minute from one client.
    """
    monkeypatch.setattr(PublicThrottle, "rate", "1000000/min", raising=False)
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _path_values() -> dict[str, list]:
    """Real ids from the demo data, so detail operations are fuzzed on records that exist as well."""
    return {
        "serial": list(Donation.objects.filter(status=DonationStatus.CONFIRMED).values_list("serial", flat=True)[:20]),
        "slug": list(Campaign.objects.values_list("slug", flat=True)[:20]),
        "id": list(Bulletin.objects.filter(status=BulletinStatus.PUBLISHED).values_list("pk", flat=True)[:20]),
    }


def _call(case, app):
    response = case.call(app=app)
    case.validate_response(response, checks=CHECKS)
    return response


def _fuzz(strategy, app, statuses: Counter, *, label: str) -> None:
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(case=strategy)
    def fuzz(case):
        response = _call(case, app)
        statuses[(label, response.status_code)] += 1

    fuzz()


def test_fuzzed_public_api_gives_no_server_error(demo, app):  # noqa: F811
    schema = schemathesis.openapi.from_dict(public_schema())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {operation.label for operation in operations} == EXPECTED_OPERATIONS
    real = _path_values()
    assert all(real.values()), real
    statuses: Counter = Counter()

    for operation in operations:
        path_names = [p.name for p in operation.iter_parameters() if p.location == "path"]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if mode is GenerationMode.NEGATIVE and not list(operation.iter_parameters()):
                continue  # nothing to break: GET /api/public/campaigns/ takes no parameter
            strategy = operation.as_strategy(generation_mode=mode)
            if mode is GenerationMode.POSITIVE and path_names:
                (name,) = path_names
                existing = st.sampled_from([str(v) for v in real[name]]).flatmap(
                    lambda value, op=operation, name=name: op.as_strategy(path_parameters={name: value})
                )
                strategy = st.one_of(strategy, existing)

            _fuzz(strategy, app, statuses, label=f"{operation.label} {mode.value}")

    # every operation also answers 200, with a body matching its schema, on the records the demo data has
    for operation in operations:
        path_names = [p.name for p in operation.iter_parameters() if p.location == "path"]
        for value in real[path_names[0]] if path_names else [None]:
            case = operation.Case(path_parameters={path_names[0]: str(value)} if path_names else {})
            response = _call(case, app)
            assert response.status_code == 200, (operation.label, value)
            body = response.json()
            assert body if isinstance(body, list) else body.get("results", body), (operation.label, value)
            statuses[(f"{operation.label} demo record", 200)] += 1

    # the fuzzing reached refusals and misses, not only one kind of answer
    assert any(code == 400 for (_label, code) in statuses)
    assert any(code == 404 for (_label, code) in statuses)


def _forged_cursors(app_cursor: str) -> list[str]:
    payload, _sep, signature = app_cursor.rpartition(":")
    unsigned = base64.urlsafe_b64encode(json.dumps(["2000-01-01T00:00:00+00:00", 1]).encode()).decode().rstrip("=")
    return [
        "not-a-cursor",
        unsigned,
        f"{unsigned}:abc:def",
        f"{payload}:{signature[::-1]}",  # a real cursor with its signature tampered
        app_cursor[:2] + ("A" if app_cursor[2] != "A" else "B") + app_cursor[3:],  # tampered payload
        app_cursor + "x" * 10_000,
        "' OR '1'='1",
        "<script>alert(1)</script>",
        "%00",
        "a\x00b",
    ]


def test_hostile_input_gets_a_refusal_or_an_empty_result(demo, app):  # noqa: F811
    schema = schemathesis.openapi.from_dict(public_schema())
    operations = {result.ok().label: result.ok() for result in schema.get_all_operations()}
    oldest = Donation.objects.filter(status=DonationStatus.CONFIRMED).order_by("received_at", "id").first()
    # cursors this API issued (validly signed): one past the last row, and one from another list's salt
    past_the_end = encode_cursor(oldest.received_at, oldest.pk)
    other_list = encode_signed_cursor(oldest.received_at, oldest.pk, salt="donations.bulletins.cursor")
    sent = html_checked = 0

    for label, operation in operations.items():
        parameters = list(operation.iter_parameters())
        query_names = [p.name for p in parameters if p.location == "query"]
        path_names = [p.name for p in parameters if p.location == "path"]
        cases = []
        for value in INJECTIONS:
            for name in query_names:
                cases.append(("empty", {name: value}, {}))
            for name in path_names:
                cases.append(("missing", {}, {name: quote(value, safe="")}))
        for value in ODD:
            for name in query_names:
                cases.append(("any", {name: value}, {}))
            for name in path_names:
                cases.append(("any", {}, {name: quote(value, safe="") or "0"}))
        if "cursor" in query_names:
            for cursor in _forged_cursors(past_the_end):
                cases.append(("refused", {"cursor": cursor}, {}))
            cases.append(("any", {"cursor": other_list}, {}))
        if not path_names:
            # page numbers and sizes past the end (this API pages by cursor; the numbers are ignored)
            for extra in ({"page": "999999"}, {"page": "-1"}, {"page_size": "100000"}, {"offset": "1000000000"}):
                cases.append(("any", extra, {}))
        for expect, query, path_parameters in cases:
            case = operation.Case(query=query, path_parameters=path_parameters)
            response = _call(case, app)
            sent += 1
            where = (label, {k: v[:80] for k, v in query.items()}, {k: v[:80] for k, v in path_parameters.items()})
            if expect == "missing":
                assert response.status_code == 404, where
            elif expect == "refused":
                assert response.status_code == 400, where
            elif expect == "empty":
                assert response.status_code == 400 or response.json()["results"] == [], (where, response.status_code)
            if DANGEROUS_TAG.search(str(query)):
                # the browsable API renders the same request as HTML: the tag must come back escaped
                html = case.call(app=app, headers={"Accept": "text/html"})
                assert html.status_code < 500, where
                assert "text/html" in html.headers["content-type"][0], where
                no_injected_markup(None, html, case)
                html_checked += 1

    assert sent > 300
    assert html_checked >= 10
    # a validly signed cursor past the last row is an empty page, not an error
    donations = operations["GET /api/public/donations/"]
    response = _call(donations.Case(query={"cursor": past_the_end}), app)
    assert response.status_code == 200
    assert response.json() == {"results": [], "next": ""}
    # the lists' own cursors walk to the end and stop
    for label in ("GET /api/public/donations/", "GET /api/public/allocations/", "GET /api/public/bulletins/"):
        query: dict = {}
        for _page in range(10):
            response = _call(operations[label].Case(query=query), app)
            assert response.status_code == 200, (label, query)
            next_cursor = response.json()["next"]
            if not next_cursor:
                break
            query = {"cursor": next_cursor}
        else:
            pytest.fail(f"{label} never reached its last page")
