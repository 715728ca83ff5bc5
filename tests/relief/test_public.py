"""Public relief pages (issue 15, step 6): the project list and page (money and counts helped by
district, never a person), the applicant's status lookup (one answer for an unknown number and a
wrong ID ending, rate-limited), and the online application on the kernel's public-form pattern."""

import re
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from redcross.consent import consent_text_draft, consent_text_publish
from redcross.models import ConsentRecord
from redcross.navigation import public_sections
from relief.models import Application, ApplicationChannel, Beneficiary
from relief.services.aid import aid_disburse
from relief.services.applications import application_review
from relief.views.apply import CONSENT_PURPOSE
from tests.relief.conftest import apply, approved, cn_id, make_project, pdf, register

pytestmark = pytest.mark.django_db

HEAD_ID = cn_id("19700101", 11)


@pytest.fixture(autouse=True)
def _roomy_limits(settings):
    # xdist workers share the Redis test cache, and so the client's address: only the limit test is tight
    settings.RELIEF_STATUS_LIMIT = settings.PUBLIC_FORM_LIMIT = 10_000


@pytest.fixture
def people(district_a, district_b, officer):
    return {"registrar": district_a, "reviewer": district_b, "decider": officer}


@pytest.fixture
def paid(funded_project, district_a, people, east):
    """One household of the east district helped: approved and paid by bank transfer."""
    household = register(district_a, east, name="欧阳秀梅", id_number=HEAD_ID, phone="13912340011",
                         address="东湖区湖滨路 9 号 3 单元", illness="慢性肾衰竭").beneficiary  # fmt: skip
    application = approved(funded_project, household, **people, amount="300")
    aid_disburse(by=district_a, application=application, method="bank", voucher_number="ZZ-PUB-1")
    return application


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- the project pages --------------------------------------------------------------------------


def test_the_project_list_and_page_show_money_and_counts_and_no_person(client, paid, funded_project):
    listing = client.get("/relief/")
    assert listing.status_code == 200
    assert funded_project.name in listing.content.decode()
    page = client.get(f"/relief/projects/{funded_project.pk}/").content.decode()
    text = _text(page)
    assert "10,000.00" in text and "300.00" in text and "9,700.00" in text  # in = out + balance
    assert 'data-helped="1"' in page and paid.branch.name in text
    for secret in ("欧阳秀梅", "秀梅", HEAD_ID, HEAD_ID[-6:], "13912340011", "湖滨路 9 号", "慢性肾衰竭", paid.number):
        assert secret not in page


def test_a_planned_project_has_no_public_page(client, officer, city):
    planned = make_project(officer, city, name="筹备中的项目")
    assert client.get(f"/relief/projects/{planned.pk}/").status_code == 404
    assert "筹备中的项目" not in client.get("/relief/").content.decode()
    assert client.get(f"/relief/projects/{planned.pk}/apply/").status_code == 404


def test_helped_counts_are_per_district_and_count_only_paid_aid(client, paid, funded_project, district_a, people, east,
                                                                west_staff, branch_tree):  # fmt: skip
    # approved but not paid: not counted
    other = register(district_a, east, name="李春花", id_number=cn_id("19720202", 12)).beneficiary
    approved(funded_project, other, **people, amount="200")
    page = client.get(f"/relief/projects/{funded_project.pk}/").content.decode()
    assert 'data-helped="1"' in page
    assert branch_tree["west"].name not in _text(page).split("受助情况")[1]


def test_relief_is_a_public_section():
    assert next(s for s in public_sections() if s.key == "relief").url_name == "relief:projects"


# --- the status lookup --------------------------------------------------------------------------


def _lookup(client, number, digits, **extra):
    return client.post("/relief/status/", {"number": number, "id_last6": digits}, **extra)


def _without_tokens(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_the_status_lookup_shows_status_and_dates_only(client, paid):
    response = _lookup(client, paid.number.lower(), HEAD_ID[-6:].lower())
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert paid.number in page and "已批准" in page and "救助已发放" in page
    for secret in ("欧阳秀梅", HEAD_ID, "13912340011", "湖滨路", "慢性肾衰竭", "300.00", paid.project.name):
        assert secret not in page


def test_a_wrong_id_ending_and_an_unknown_number_get_the_same_answer(client, paid):
    wrong = _lookup(client, paid.number, "000000")
    unknown_number = "LZSQ2099-999999"
    unknown = _lookup(client, unknown_number, HEAD_ID[-6:])
    assert wrong.status_code == unknown.status_code == 200
    assert "未找到匹配的申请" in wrong.content.decode()
    assert _without_tokens(wrong.content.decode()).replace(paid.number, "N") == _without_tokens(
        unknown.content.decode()
    ).replace(unknown_number, "N")
    # the ID ending typed is never echoed
    assert HEAD_ID[-6:] not in unknown.content.decode()


@pytest.mark.parametrize("digits", ["", "12345", "1234567", "12345Y", "<b>x</b>"])
def test_a_malformed_id_ending_names_the_field(client, paid, digits):
    page = _lookup(client, paid.number, digits).content.decode()
    assert 'id="id6-error"' in page and "已批准" not in page


def test_the_status_lookup_is_rate_limited_for_right_and_wrong_answers_alike(client, paid, settings):
    settings.RELIEF_STATUS_LIMIT = 3
    own = {"REMOTE_ADDR": f"10.15.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"}  # a bucket of its own
    for _ in range(3):
        assert _lookup(client, "LZSQ2099-000001", "123456", **own).status_code == 200
    assert _lookup(client, paid.number, HEAD_ID[-6:], **own).status_code == 429
    assert _lookup(client, "LZSQ2099-000001", "123456", **own).status_code == 429
    assert _lookup(client, paid.number, HEAD_ID[-6:]).status_code == 200  # another client is not limited


# --- the online application -------------------------------------------------------------------


@pytest.fixture
def text():
    return consent_text_publish(
        text=consent_text_draft(
            purpose=CONSENT_PURPOSE, title="救助申请个人信息使用同意书", text="本会仅为办理本次救助使用您的信息。"
        )
    )


APPLICANT_ID = cn_id("19800303", 21)


def _data(text, **overrides):
    data = {
        "district": "CSE",
        "kind": "household",
        "name": "钟丽萍",
        "id_number": APPLICANT_ID,
        "phone": "13912345678",
        "situation": "丈夫重病住院，家中两个孩子上学，收入微薄",
        "requested_amount": "300",
        "consent": "on",
        "consent_version": str(text.version),
        "website": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _apply_url(project):
    return f"/relief/projects/{project.pk}/apply/"


def _link(page: str) -> str:
    return re.search(r'href="http://testserver(/relief/a/[^"]+/)"', page).group(1)


def test_an_online_application_registers_records_consent_and_gives_a_private_link(client, text, funded_project, east):
    form = client.get(_apply_url(funded_project)).content.decode()
    assert text.title in form and funded_project.name in form and east.name in form
    response = client.post(_apply_url(funded_project), _data(text, document_kind="income", document=pdf()))
    assert response.status_code == 200 and response["X-Robots-Tag"] == "noindex"
    page = response.content.decode()
    application = Application.objects.get()
    assert application.number in page and "申请已提交" in page
    assert application.channel == ApplicationChannel.ONLINE and application.registered_by is None
    assert application.branch == east and application.documents.count() == 1
    beneficiary = application.beneficiary
    assert (beneficiary.name, beneficiary.id_number, beneficiary.registered_by) == ("钟丽萍", APPLICANT_ID, None)
    record = ConsentRecord.objects.get()
    assert (record.purpose, record.method, record.branch) == (CONSENT_PURPOSE, "online", east)
    assert record.subject == beneficiary
    # the private page: masked, nothing to change online
    manage = client.get(_link(page))
    body = manage.content.decode()
    assert manage.status_code == 200 and application.number in body and beneficiary.masked_name in body
    assert "钟丽萍" not in body and APPLICANT_ID not in body and "13912345678" not in body
    assert client.post(_link(page), {"action": "withdraw"}).status_code == 405
    # the district reviews it like any other; the lookup then shows the new status
    application_review(by=_staff(east), application=application, passed=True, reason="情况属实")
    assert "区县已初审" in _lookup(client, application.number, APPLICANT_ID[-6:]).content.decode()


def _staff(east):
    from tests.factories import StaffFactory

    return StaffFactory(branch=east, roles=["district_staff"])


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"id_number": APPLICANT_ID[:-1] + ("0" if APPLICANT_ID[-1] != "0" else "1")}, "id_number"),
        ({"phone": "12345"}, "phone"),
        ({"name": "<script>alert(1)</script>"}, "name"),
        ({"situation": ""}, "situation"),
        ({"situation": "困" * 4001}, "situation"),
        ({"requested_amount": "999999999"}, "requested_amount"),
        ({"requested_amount": "501"}, "requested_amount"),  # above the project's cap
        ({"district": "NOPE"}, "district"),
        ({"consent": None}, "consent"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(client, text, funded_project, overrides, field):
    response = client.post(_apply_url(funded_project), _data(text, **overrides))
    page = response.content.decode()
    assert response.status_code == 200 and "请修改以下内容后重新提交" in page
    assert f'id="id_{field}-error"' in page or f'id="{field}-error"' in page, page
    assert Application.objects.count() == Beneficiary.objects.count() == ConsentRecord.objects.count() == 0
    assert "<script>alert(1)</script>" not in page


def test_a_forged_document_is_refused_and_nothing_written(client, text, funded_project):
    forged = SimpleUploadedFile("proof.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post(_apply_url(funded_project), _data(text, document_kind="income", document=forged))
    page = response.content.decode()
    assert "请修改以下内容后重新提交" in page
    assert Application.objects.count() == Beneficiary.objects.count() == ConsentRecord.objects.count() == 0


def test_applying_twice_to_a_project_is_refused(client, text, funded_project):
    client.post(_apply_url(funded_project), _data(text))
    page = client.post(_apply_url(funded_project), _data(text)).content.decode()
    assert "该受助人已申请过本项目" in page
    assert Application.objects.count() == 1 and ConsentRecord.objects.count() == 1


def test_a_filled_honeypot_answers_like_success_and_writes_nothing(client, text, funded_project):
    page = client.post(_apply_url(funded_project), _data(text, website="http://spam.example")).content.decode()
    assert "申请已提交" in page
    assert Application.objects.count() == Beneficiary.objects.count() == 0
    assert client.get(_link(page)).status_code == 404


def test_the_form_is_closed_without_a_consent_text_or_an_open_period(client, funded_project, officer, city, text):
    ended = make_project(officer, city, name="已过期的项目", starts_on=timezone.localdate() - timedelta(days=90),
                         ends_on=timezone.localdate() - timedelta(days=1))  # fmt: skip
    from relief.services.projects import project_open

    project_open(by=officer, project=ended)
    assert "不接受在线申请" in client.get(_apply_url(ended)).content.decode()
    assert client.post(_apply_url(ended), _data(text)).status_code == 409
    text.purpose = "something-else"
    text.save(update_fields=["purpose"])
    assert client.get(_apply_url(funded_project)).status_code == 503


def test_csrf_is_required(text, funded_project):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(_apply_url(funded_project), _data(text)).status_code == 403
    assert Application.objects.count() == 0


def test_an_application_by_staff_is_found_by_the_lookup_too(client, funded_project, district_a, east):
    household = register(district_a, east, name="杜春生", id_number=cn_id("19650505", 31)).beneficiary
    application = apply(district_a, funded_project, household)
    assert "已提交" in _lookup(client, application.number, household.id_number[-6:]).content.decode()
