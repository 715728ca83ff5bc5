"""redcross.shell: a page rendered once with markers, filled in for each request."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.test import RequestFactory

from redcross.shell import render_in_shell, shell_allowed

pytestmark = pytest.mark.django_db  # the context processors read the portal's facts


@pytest.fixture(autouse=True)
def _fresh_fragments():
    caches["fragments"].clear()
    yield
    caches["fragments"].clear()


@pytest.fixture
def template(tmp_path, settings):
    # changing TEMPLATES makes Django's test signals rebuild the engines with this folder first
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]

    def write(text: str) -> str:
        (tmp_path / "shell_test.html").write_text(text, encoding="utf-8")
        return "shell_test.html"

    return write


def test_each_request_gets_its_own_values_in_the_shell_rendered_once(template):
    name = template("<p>{{ heading }}</p><ul>{{ rows }}</ul><a href='?c={{ cursor|urlencode }}'>{{ who }}</a>")
    calls = []

    def context(markers):
        calls.append(markers)
        return {"heading": "榜单 <固定>", **markers}

    request = RequestFactory().get("/")
    first = render_in_shell(request, name, context, key="t", slots={"rows": "<li>1</li>", "cursor": "a", "who": "甲"})
    second = render_in_shell(request, name, context, key="t", slots={"rows": "<li>2</li>", "cursor": "b", "who": "乙"})
    assert first == "<p>榜单 &lt;固定&gt;</p><ul><li>1</li></ul><a href='?c=a'>甲</a>"
    assert second == "<p>榜单 &lt;固定&gt;</p><ul><li>2</li></ul><a href='?c=b'>乙</a>"
    assert len(calls) == 1  # the template was rendered once


@pytest.mark.parametrize("text", ["<p>{{ rows }}{{ rows }}</p>", "<p>{{ nothing }}</p>"])
def test_a_template_that_does_not_print_each_slot_once_is_refused(template, text):
    name = template(text)
    with pytest.raises(ValueError, match="must print each slot once"):
        render_in_shell(RequestFactory().get("/"), name, lambda markers: dict(markers), key="bad", slots={"rows": ""})
    assert caches["fragments"].get("bad") is None


def test_only_visitors_with_nothing_of_their_own_get_a_shell(settings):
    factory = RequestFactory()
    assert shell_allowed(factory.get("/"))
    language_only = factory.get("/")
    language_only.COOKIES = {settings.LANGUAGE_COOKIE_NAME: "en", "csrftoken": "x"}
    assert shell_allowed(language_only)
    for cookie in (settings.SESSION_COOKIE_NAME, "messages"):
        request = factory.get("/")
        request.COOKIES = {cookie: "anything"}
        assert not shell_allowed(request), cookie
