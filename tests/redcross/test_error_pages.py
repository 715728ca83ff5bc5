"""Styled, translated error pages: 403, 404 and 500 on the public site and in the admin, in both
languages, with their status codes; a read-only user opening an add page is told in the admin's
own frame that the permission is missing, with the way back to the workbench."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.urls import path
from django.utils.translation import override

from redcross import urls as project_urls
from redcross.views import server_error
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def _forbidden(request):
    raise PermissionDenied


def _broken(request):
    raise RuntimeError("a bug")


# the project's routes and handlers, plus pages that fail on purpose
urlpatterns = [
    path("test-forbidden/", _forbidden),
    path("test-broken/", _broken),
    path("admin/test-broken/", _broken),
    *project_urls.urlpatterns,
]
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500

TEXTS = {
    "zh-hans": {
        403: "没有访问权限",
        404: "页面不存在",
        500: "服务暂时不可用",
        "admin 403": "没有操作权限",
        "admin 404": "页面不存在",
        "admin 500": "服务暂时不可用",
        "back": "返回工作台",
    },
    "en": {
        403: "Access denied",
        404: "Page not found",
        500: "Service temporarily unavailable",
        "admin 403": "Permission required",
        "admin 404": "Page not found",
        "admin 500": "Service temporarily unavailable",
        "back": "Back to the workbench",
    },
}


@pytest.fixture
def site(settings, client):
    settings.ROOT_URLCONF = __name__
    client.raise_request_exception = False
    return client


def _get(client, url: str, language: str):
    client.cookies["django_language"] = language
    response = client.get(url)
    return response, response.content.decode()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_public_error_pages(site, language):
    for url, status in (("/test-forbidden/", 403), ("/no-such-page/", 404), ("/test-broken/", 500)):
        response, html = _get(site, url, language)
        assert response.status_code == status, url
        assert TEXTS[language][status] in html, url
        assert f'<html lang="{language}">' in html
        assert 'href="/static/css/site.css"' in html or "/static/css/site" in html


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_read_only_user_opening_an_add_page_sees_the_admin_page_saying_so(site, branch_tree, language):
    leader = StaffFactory(branch=branch_tree["city"], roles=["leadership"])
    site.force_login(leader)
    for url in ("/admin/donations/donation/add/", "/admin/donations/campaign/add/", "/admin/donations/receipt/add/"):
        response, html = _get(site, url, language)
        assert response.status_code == 403, url
        assert TEXTS[language]["admin 403"] in html, url
        assert TEXTS[language]["back"] in html and 'href="/admin/"' in html
        assert 'id="user-tools"' in html  # the admin's own frame, not a bare "403 Forbidden"
        assert "403 Forbidden" not in html


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_admin_404_and_500_for_staff(site, branch_tree, language):
    site.force_login(StaffFactory(branch=branch_tree["city"], roles=["leadership"]))
    response, html = _get(site, "/admin/donations/no-such-page/", language)
    assert response.status_code == 404
    assert TEXTS[language]["admin 404"] in html and TEXTS[language]["back"] in html
    response, html = _get(site, "/admin/test-broken/", language)
    assert response.status_code == 500
    assert TEXTS[language]["admin 500"] in html and TEXTS[language]["back"] in html


@pytest.mark.parametrize("url", ["/", "/admin/"])
def test_the_500_page_renders_without_database_or_context(url, django_assert_num_queries):
    """What failed may be the database: the page asks nothing of it."""
    request = RequestFactory().get(url)
    with override("en"), django_assert_num_queries(0):
        response = server_error(request)
    assert response.status_code == 500
    assert TEXTS["en"][500] in response.content.decode()


def test_api_errors_stay_json(site):
    response = site.get("/api/no-such-endpoint/")
    assert response.status_code == 404 and response.json()["detail"]
