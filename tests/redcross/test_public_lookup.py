"""The kernel's lookup by a number and a private factor (redcross.public_forms.PublicLookupView),
on the example in public_lookup_example.py, and its three users (the donor lookup, the relief
status lookup, the certificate lookup)."""

import re
import uuid
from pathlib import Path

import pytest
from django.test import Client

from redcross.models import Person
from redcross.public_forms import PublicLookupView
from tests.redcross.public_lookup_example import TEMPLATE, TEMPLATE_SOURCE

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.redcross.public_lookup_example")]

ROOT = Path(__file__).resolve().parents[2]
URL = "/example/lookup/"


@pytest.fixture(autouse=True)
def _example_template(settings):
    engine = {**settings.TEMPLATES[0], "APP_DIRS": False}
    engine["OPTIONS"] = {
        **engine["OPTIONS"],
        "loaders": [
            ("django.template.loaders.locmem.Loader", {TEMPLATE: TEMPLATE_SOURCE}),
            "django.template.loaders.filesystem.Loader",
            "django.template.loaders.app_directories.Loader",
        ],
    }
    settings.TEMPLATES = [engine]


@pytest.fixture
def client():
    # a client address of its own: xdist workers share the Redis cache, where the counters live
    return Client(REMOTE_ADDR=f"10.16.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}")


@pytest.fixture
def person(branch_tree):
    return Person.objects.create(name="张三", phone="13912345678", branch=branch_tree["city"])


def test_the_form_is_shown_and_reading_it_costs_nothing(client, settings):
    settings.EXAMPLE_LOOKUP_LIMIT = 1
    for _ in range(3):
        response = client.get(URL)
        assert response.status_code == 200
        assert "[number=]" in response.content.decode()
    assert client.head(URL).status_code == 200


def test_a_hit_shows_what_was_found_with_an_empty_form_on_a_private_page(client, person):
    response = client.post(URL, {"number": str(person.pk), "phone_last4": "5678"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "FOUND:张*" in page and "MISS" not in page
    assert "[number=]" in page  # the form is empty again: nothing typed is echoed back
    assert "no-store" in response.headers["Cache-Control"] and "private" in response.headers["Cache-Control"]
    assert response.headers["X-Robots-Tag"] == "noindex"


def test_an_unknown_number_and_a_wrong_factor_get_one_answer(client, person):
    unknown = client.post(URL, {"number": str(person.pk + 100), "phone_last4": "5678"})
    wrong = client.post(URL, {"number": str(person.pk), "phone_last4": "0000"})
    assert unknown.status_code == wrong.status_code == 200
    assert "MISS:未找到匹配的记录" in unknown.content.decode()
    # the same page apart from what was typed
    same = re.compile(r"\[\w+=[^\]]*\]")
    assert same.sub("", unknown.content.decode()) == same.sub("", wrong.content.decode())
    assert "FOUND" not in unknown.content.decode() + wrong.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"number": "1", "phone_last4": "12a4"},
        {"number": "1", "phone_last4": "<script>"},
        {"number": "1", "phone_last4": "1" * 5000},
        {"number": "1"},
    ],
)
def test_a_malformed_factor_is_an_error_on_its_field_and_no_lookup(client, person, data):
    page = client.post(URL, data).content.decode()
    assert "FIELD phone_last4:" in page
    assert "MISS" not in page and "FOUND" not in page


def test_every_attempt_counts_and_over_the_limit_right_and_wrong_get_the_refusal(client, person, settings):
    settings.EXAMPLE_LOOKUP_LIMIT = 2
    client.post(URL, {"number": "1", "phone_last4": "12a4"})  # malformed: counted all the same
    client.post(URL, {"number": str(person.pk + 1), "phone_last4": "5678"})
    right = client.post(URL, {"number": str(person.pk), "phone_last4": "5678"})
    wrong = client.post(URL, {"number": str(person.pk), "phone_last4": "0000"})
    assert right.status_code == wrong.status_code == 429
    assert right.content == wrong.content and "FOUND" not in right.content.decode()
    assert int(right.headers["Retry-After"]) > 0
    assert client.get(URL).status_code == 200  # the form can still be read


def test_without_a_working_counter_the_lookup_fails_closed(client, person, monkeypatch):
    from django.core.cache import cache

    def broken(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(cache, "incr", broken)
    response = client.post(URL, {"number": str(person.pk), "phone_last4": "5678"})
    assert response.status_code == 503 and "FOUND" not in response.content.decode()


def test_a_listed_lookup_is_indexable_but_never_cached(client, person):
    response = client.post("/example/listed-lookup/", {"number": str(person.pk), "phone_last4": "5678"})
    assert "FOUND:张*" in response.content.decode()
    assert "X-Robots-Tag" not in response.headers
    assert "no-store" in response.headers["Cache-Control"]


def test_other_methods_are_refused(client):
    assert client.put(URL).status_code == 405
    assert client.delete(URL).status_code == 405


def test_the_project_s_lookups_are_the_kernel_s():
    from donations.views.lookup import DonationLookupView
    from redcross.verification_views import VerifyLookupView
    from relief.views.status import StatusLookupView

    for view in (DonationLookupView, StatusLookupView, VerifyLookupView):
        assert issubclass(view, PublicLookupView)
        assert "post" not in vars(view) and "get" not in vars(view)  # the flow is the kernel's


def test_no_second_copy_of_the_lookup_flow_in_the_project():
    """A view that counts an attempt and then adds the "not found" error itself has drifted from
    the one flow: it subclasses ``PublicLookupView`` instead."""
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {".venv", "tests", "var", "bench"} or "migrations" in relative.parts:
            continue
        if relative == Path("redcross/public_forms.py"):
            continue
        source = path.read_text(encoding="utf-8")
        if ".refused_attempt(request)" in source and re.search(r"\.add_error\(None,", source):
            offenders.append(str(relative))
    assert offenders == []
