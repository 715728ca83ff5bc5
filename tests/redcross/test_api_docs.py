"""The API's front doors: the open data index and the Swagger page (issue 13)."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_open_data_index_lists_every_public_list_endpoint(client):
    response = client.get("/api/public/")
    assert response.status_code == 200
    body = response.json()
    names = {endpoint["name"]: endpoint for endpoint in body["endpoints"]}
    assert set(names) == {"bulletin", "donation", "campaign", "allocation"}
    for endpoint in body["endpoints"]:
        assert endpoint["url"].startswith("http://testserver/api/public/")
        assert endpoint["description"]
        # each one answers, without a login
        assert client.get(endpoint["url"]).status_code == 200, endpoint["url"]
    assert body["documentation"].endswith("/api/docs/")
    assert body["schema"].endswith("/api/schema/")


def test_open_data_index_is_in_the_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/public/" in schema["paths"]


def test_swagger_page_has_no_inline_script_or_style(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    # every script is loaded from a URL, and there is no <style> element: the CSP needs no unsafe-inline
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert "<style" not in page
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    script = re.findall(r'<script src="([^"]+\?script[^"]*)"', page)
    assert script, page
    start_up = client.get(script[0].replace("&amp;", "&"))
    assert start_up.status_code == 200
    assert "SwaggerUIBundle" in start_up.content.decode()
