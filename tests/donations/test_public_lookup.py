"""Public donor self-service (lookup, token page, PDFs) and the certificate and receipt verification pages."""

import re
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from donations.models import Certificate, DonationItem, DonationKind, PdfStatus, Receipt, ValueBasis
from redcross.money import capital_yuan
from tests.donations.factories import (
    DonationFactory,
    OrganisationDonorFactory,
    PersonDonorFactory,
    RecipientFactory,
)

pytestmark = pytest.mark.django_db

PHONE = "13912345678"
ID_NUMBER = "11010519491231002X"
ADDRESS = "测试市明德路 88 号 3 单元"
LOOKUP = "/donations/lookup/"
NOT_FOUND = "未找到匹配的捐赠，请核对流水号和手机号后四位"

_CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
_SERIAL_VALUE_RE = re.compile(r'(id="id_serial"[^>]*?value=)"[^"]*"', flags=re.S)


def _page(response) -> str:
    return response.content.decode()


def _without_csrf(page: str) -> str:
    return _CSRF_RE.sub('name="csrfmiddlewaretoken" value=""', page)


def _error_block(page: str) -> str:
    start = page.index('<div class="form-error"')
    return page[start : page.index("</div>", start)]


def _confirm(donation, reviewer):
    donation.status = "confirmed"
    donation.confirmed_by = reviewer
    donation.confirmed_at = timezone.now()
    donation.save()
    return donation


@pytest.fixture
def donor(city):
    return PersonDonorFactory(branch=city, name="张三", phone=PHONE, id_number=ID_NUMBER, address=ADDRESS)


@pytest.fixture
def donation(city, donor, campaign, reviewer):
    return _confirm(
        DonationFactory(branch=city, donor=donor, campaign=campaign, serial="FX2026-000123", amount="1234.50"),
        reviewer,
    )


def _receipt(donation, user, *, number=1, check_code="ABCD1234", status="valid", pdf=False) -> Receipt:
    receipt = Receipt(
        donation=donation,
        branch=donation.branch,
        year=2026,
        number=number,
        invoice_code="CS2026",
        check_code=check_code,
        issued_at=timezone.now(),
        payer_name=donation.donor.name,
        lines=[{"item_code": "0101", "item_name": "货币性捐赠", "amount": "1,234.50"}],
        total_amount=donation.amount,
        total_in_words="",
        payee=donation.branch.name,
        reviewer_name="周明远",
        issuer_name="林晓雨",
        issued_by=user,
        status=status,
    )
    receipt.save()
    if pdf:
        receipt.pdf.save(f"CS2026-{number:08d}.pdf", ContentFile(b"%PDF-1.4 test"), save=False)
        receipt.pdf_status = PdfStatus.READY
        receipt.save()
    return receipt


def _certificate(donation, *, pdf=False) -> Certificate:
    certificate = Certificate.objects.create(donation=donation)
    if pdf:
        certificate.pdf.save(f"{certificate.verification_code}.pdf", ContentFile(b"%PDF-1.4 cert"), save=False)
        certificate.pdf_status = PdfStatus.READY
        certificate.save()
    return certificate


def _token_url(donation) -> str:
    return reverse("donations:donation", kwargs={"token": donation.lookup_token})


def _assert_no_personal_data(page: str) -> None:
    for secret in (PHONE, "5678", ID_NUMBER, "1002X", ADDRESS, "张三"):
        assert secret not in page, secret


# --- lookup -----------------------------------------------------------------------------


def test_lookup_form_is_accessible(client, city):
    response = client.get(LOOKUP)
    assert response.status_code == 200
    page = _page(response)
    for control_id in ("id_serial", "id_phone_last4"):
        assert f'<label for="{control_id}">' in page
    phone_input = re.search(r'<input[^>]*id="id_phone_last4"[^>]*>', page, flags=re.S).group(0)
    for attribute in (
        'autocomplete="off"',
        'inputmode="numeric"',
        'pattern="[0-9]{4}"',
        'aria-describedby="phone-help',
    ):
        assert attribute in phone_input
    assert 'style="' not in page  # the CSP allows no inline styles
    assert "no-store" in response["Cache-Control"]


def test_lookup_success_redirects_to_the_token_page_with_public_facts(client, donation):
    # typed in lower case with spaces around: normalised
    response = client.post(LOOKUP, {"serial": "  fx2026-000123 ", "phone_last4": "5678"})
    assert response.status_code == 302
    assert response["Location"] == _token_url(donation)

    response = client.get(response["Location"])
    assert response.status_code == 200
    page = _page(response)
    assert "张*" in page
    assert "1,234.50 元" in page
    assert capital_yuan(Decimal("1234.50")) in page
    assert "FX2026-000123" in page
    assert "测试抗疫专项募捐" in page
    assert "尚未拨付" in page
    assert donation.received_at.astimezone(timezone.get_default_timezone()).strftime("%Y年") in page
    _assert_no_personal_data(_without_csrf(page))
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex"


def test_full_width_digits_are_accepted(client, donation):
    response = client.post(LOOKUP, {"serial": "FX2026-000123", "phone_last4": "５６７８"})
    assert response.status_code == 302


def test_every_not_found_answer_is_the_same(client, city, donation, campaign, reviewer):
    unconfirmed = DonationFactory(
        branch=city, campaign=campaign, serial="FX2026-000124", donor=PersonDonorFactory(branch=city, phone=PHONE)
    )
    no_phone = _confirm(
        DonationFactory(
            branch=city, campaign=campaign, serial="FX2026-000125", donor=PersonDonorFactory(branch=city, phone="")
        ),
        reviewer,
    )
    attempts = {
        "wrong digits": ("FX2026-000123", "5679"),
        "unknown serial": ("FX2026-999999", "5678"),
        "unconfirmed": (unconfirmed.serial, "5678"),
        "no phone on record": (no_phone.serial, "0000"),
    }
    pages = {}
    for reason, (serial, digits) in attempts.items():
        response = client.post(LOOKUP, {"serial": serial, "phone_last4": digits})
        assert response.status_code == 200, reason
        page = _page(response)
        assert NOT_FOUND in _error_block(page), reason
        pages[reason] = (_error_block(page), _SERIAL_VALUE_RE.sub(r'\1""', _without_csrf(page)))
    assert len(set(pages.values())) == 1, "the answers differ"


def test_designated_recipient_is_named_until_allocations_exist(client, donation):
    donation.designated_recipient = RecipientFactory(branch=donation.branch, name="测试市第一人民医院")
    donation.save()
    page = _page(client.get(_token_url(donation)))
    assert "尚未拨付" in page
    assert "测试市第一人民医院" in page


def test_organisation_with_full_display_is_named(client, city, campaign, reviewer):
    donor = OrganisationDonorFactory(branch=city, name="测试爱心科技有限公司", phone="0571-86001234")
    donation = _confirm(DonationFactory(branch=city, campaign=campaign, donor=donor), reviewer)
    response = client.post(LOOKUP, {"serial": donation.serial, "phone_last4": "1234"})
    assert response.status_code == 302
    assert "测试爱心科技有限公司" in _page(client.get(response["Location"]))


@pytest.mark.parametrize(
    ("serial", "digits", "expected"),
    [
        ("<script>alert(1)</script>", "5678", NOT_FOUND),
        ("FX" * 5000, "5678", NOT_FOUND),
        ("FX2026-000123' OR '1'='1", "5678", NOT_FOUND),
        ("FX2026-000123", "56a8", "请输入 4 位数字"),
        ("FX2026-000123", "567", "请输入 4 位数字"),
        ("FX2026-000123", "５６７８９", "请输入 4 位数字"),
        ("FX2026-000123", "", "必填项"),
    ],
)
def test_malicious_or_malformed_input_gets_the_normal_answer(client, donation, serial, digits, expected):
    response = client.post(LOOKUP, {"serial": serial, "phone_last4": digits})
    assert response.status_code == 200
    page = _page(response)
    assert expected in page
    assert "<script>alert" not in page


def test_lookup_rejects_other_methods(client, city):
    assert client.put(LOOKUP).status_code == 405


# --- rate limit --------------------------------------------------------------------------


def test_lookups_are_rate_limited_per_client(client, donation, settings):
    settings.DONATION_LOOKUP_LIMIT = 3
    for _ in range(3):
        assert client.post(LOOKUP, {"serial": "FX2026-000123", "phone_last4": "0000"}).status_code == 200
    response = client.post(LOOKUP, {"serial": "FX2026-000123", "phone_last4": "5678"})
    assert response.status_code == 429  # even the right digits: the budget is spent
    assert "查询过于频繁，请稍后再试" in _page(response)
    assert 0 < int(response["Retry-After"]) <= 3600
    assert "no-store" in response["Cache-Control"]
    # another client is not affected; showing the form does not count
    assert (
        client.post(LOOKUP, {"serial": "FX2026-000123", "phone_last4": "5678"}, REMOTE_ADDR="10.0.0.2").status_code
        == 302
    )
    assert client.get(LOOKUP).status_code == 200


def test_the_last_allowed_lookup_still_opens_its_page(client, donation, settings):
    settings.DONATION_LOOKUP_LIMIT = 2
    assert client.post(LOOKUP, {"serial": "FX2026-000123", "phone_last4": "0000"}).status_code == 200
    response = client.post(LOOKUP, {"serial": "FX2026-000123", "phone_last4": "5678"}, follow=True)
    assert response.status_code == 200
    assert "张*" in _page(response)


def test_unknown_token_guessing_is_throttled(client, donation, settings):
    settings.DONATION_LOOKUP_LIMIT = 3
    guesses = ["/donations/d/guess-1/", "/donations/d/guess-2/receipt.pdf", "/donations/d/guess-3/certificate.pdf"]
    for url in guesses:
        response = client.get(url)
        assert response.status_code == 404
        assert "no-store" in response["Cache-Control"]
    assert client.get("/donations/d/guess-4/").status_code == 429
    # once throttled, a valid token gets the same refusal: the answer tells nothing about the guess
    assert client.get(_token_url(donation)).status_code == 429
    assert client.post(LOOKUP, {"serial": "FX2026-000123", "phone_last4": "5678"}).status_code == 429


def test_opening_a_valid_token_page_does_not_count(client, donation, settings):
    settings.DONATION_LOOKUP_LIMIT = 2
    _certificate(donation, pdf=True)
    for _ in range(5):
        assert client.get(_token_url(donation)).status_code == 200
        assert client.get(_token_url(donation) + "certificate.pdf").status_code == 200
    for _ in range(2):
        assert client.post(LOOKUP, {"serial": "FX2026-000123", "phone_last4": "0000"}).status_code == 200
    assert client.post(LOOKUP, {"serial": "FX2026-000123", "phone_last4": "0000"}).status_code == 429


def test_unknown_verification_codes_count_as_guesses(client, donation, settings):
    settings.DONATION_LOOKUP_LIMIT = 2
    assert client.get("/donations/verify/AAAAAAAAAA/").status_code == 404
    assert client.get("/donations/receipts/verify/CS2026/00000001/FFFFFFFF/").status_code == 404
    assert client.get("/donations/verify/BBBBBBBBBB/").status_code == 429


def test_limiter_down_fails_closed_for_lookups_and_logs_nothing_personal(client, donation, monkeypatch, caplog):
    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(type(caches["default"]), "incr", down)
    response = client.post(LOOKUP, {"serial": "FX2026-000123", "phone_last4": "5678"})
    assert response.status_code == 503
    assert "查询服务暂时不可用" in _page(response)
    assert client.get("/donations/d/unknown-token/").status_code == 503
    # a saved link still works: valid tokens need no counter
    assert client.get(_token_url(donation)).status_code == 200
    assert "rate limiter unavailable" in caplog.text
    for secret in ("FX2026-000123", "5678", "127.0.0.1", donation.lookup_token, "unknown-token"):
        assert secret not in caplog.text


# --- token page and PDFs -----------------------------------------------------------------


def test_unconfirmed_donation_token_is_not_found(client, city, campaign):
    registered = DonationFactory(branch=city, campaign=campaign)
    response = client.get(_token_url(registered))
    assert response.status_code == 404
    assert "未找到该捐赠" in _page(response)
    assert response["X-Robots-Tag"] == "noindex"


def test_receipt_pdf_only_for_a_valid_receipt_with_a_ready_pdf(client, donation, reviewer, caplog):
    url = reverse("donations:receipt_pdf", kwargs={"token": donation.lookup_token})
    assert client.get(url).status_code == 404  # no receipt yet
    page = _page(client.get(_token_url(donation)))
    assert "尚未开具" in page
    assert url not in page

    receipt = _receipt(donation, reviewer)
    assert client.get(url).status_code == 404  # PDF still rendering
    page = _page(client.get(_token_url(donation)))
    assert "CS2026" in page and "00000001" in page
    assert "票据文件正在生成" in page
    assert url not in page

    receipt.pdf.save("CS2026-00000001.pdf", ContentFile(b"%PDF-1.4 test"), save=False)
    receipt.pdf_status = PdfStatus.READY
    receipt.save()
    assert url in _page(client.get(_token_url(donation)))
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 test"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert "no-store" in response["Cache-Control"]

    receipt.status = "reversed"
    receipt.save()
    assert client.get(url).status_code == 404
    assert url not in _page(client.get(_token_url(donation)))
    # the expected 404s are not logged with their path, which carries the donor's token
    assert donation.lookup_token not in caplog.text


def test_certificate_pdf_and_code_on_the_token_page(client, donation):
    url = reverse("donations:certificate_pdf", kwargs={"token": donation.lookup_token})
    assert client.get(url).status_code == 404
    assert "尚未颁发" in _page(client.get(_token_url(donation)))
    certificate = _certificate(donation)
    page = _page(client.get(_token_url(donation)))
    assert certificate.verification_code in page
    assert url not in page
    assert client.get(url).status_code == 404
    certificate.pdf.save("x.pdf", ContentFile(b"%PDF-1.4 cert"), save=False)
    certificate.pdf_status = PdfStatus.READY
    certificate.save()
    assert url in _page(client.get(_token_url(donation)))
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 cert"


def test_token_page_query_count_is_bounded(client, donation, reviewer, django_assert_max_num_queries):
    _receipt(donation, reviewer, pdf=True)
    _certificate(donation, pdf=True)
    donation.designated_recipient = RecipientFactory(branch=donation.branch)
    donation.save()
    url = _token_url(donation)
    client.get("/")  # portal facts cached, as on a warm site
    with django_assert_max_num_queries(8):
        response = client.get(url)
    assert response.status_code == 200


def test_in_kind_donation_shows_goods(client, city, campaign, reviewer, django_assert_max_num_queries):
    donation = _confirm(
        DonationFactory(branch=city, campaign=campaign, kind=DonationKind.IN_KIND, amount=None), reviewer
    )
    DonationItem.objects.create(
        donation=donation,
        name="医用外科口罩",
        quantity=Decimal("2000"),
        unit="只",
        unit_value=Decimal("0.50"),
        value_basis=ValueBasis.INVOICE,
    )
    with django_assert_max_num_queries(8):
        page = _page(client.get(_token_url(donation)))
    assert "医用外科口罩2000只" in page
    assert "1,000.00 元" in page


# --- verification pages ------------------------------------------------------------------


def test_certificate_verify_shows_public_facts_only(client, donation):
    certificate = _certificate(donation)
    response = client.get(reverse("donations:certificate_verify", kwargs={"code": certificate.verification_code}))
    assert response.status_code == 200
    page = _page(response)
    assert "证书真实有效" in page
    assert certificate.verification_code in page
    assert "张*" in page
    assert "1,234.50 元" in page
    _assert_no_personal_data(_without_csrf(page))
    assert donation.lookup_token not in page  # the donor's link is not public
    # typed in lower case
    lower = client.get(f"/donations/verify/{certificate.verification_code.lower()}/")
    assert lower.status_code == 200


def test_certificate_verify_unknown_code(client, city):
    response = client.get("/donations/verify/ZZZZZZZZZZ/")
    assert response.status_code == 404
    assert "未找到该证书" in _page(response)
    assert client.get("/donations/verify/" + "<script>" * 100 + "/").status_code == 404


def test_receipt_verify_valid_reversed_and_wrong_check_code(client, donation, reviewer):
    receipt = _receipt(donation, reviewer, check_code="9F3A0B7C")
    url = "/donations/receipts/verify/CS2026/00000001/9F3A0B7C/"
    response = client.get(url)
    assert response.status_code == 200
    page = _page(response)
    assert "有效" in page and "已冲红" not in page
    assert "张*" in page
    assert "1,234.50 元" in page
    assert timezone.localtime(receipt.issued_at).strftime("%Y年") in page
    _assert_no_personal_data(_without_csrf(page))
    assert donation.serial not in page  # nothing but status, payer, amount and date
    assert "no-store" in response["Cache-Control"]
    # the 校验码 is not case-sensitive
    assert client.get(url.lower().replace("cs2026", "CS2026")).status_code == 200

    receipt.status = "reversed"
    receipt.save()
    page = _page(client.get(url))
    assert "已冲红" in page

    for wrong in (
        "/donations/receipts/verify/CS2026/00000001/9F3A0B7D/",
        "/donations/receipts/verify/CS2026/00000002/9F3A0B7C/",
        "/donations/receipts/verify/CS2025/00000001/9F3A0B7C/",
        "/donations/receipts/verify/CS2026/" + "9" * 40 + "/9F3A0B7C/",
        "/donations/receipts/verify/CS2026/1e5/9F3A0B7C/",
    ):
        response = client.get(wrong)
        assert response.status_code == 404, wrong
        assert "未找到该票据" in _page(response)


# --- navigation ---------------------------------------------------------------------------


def test_home_page_navigation_links_the_lookup(client, city):
    page = _page(client.get("/"))
    nav = page[page.index('<nav class="main-nav"') : page.index("</nav>")]
    assert '<a href="/donations/lookup/">捐赠查询</a>' in nav
