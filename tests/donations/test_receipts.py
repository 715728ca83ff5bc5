"""Receipts: issued only for confirmed gifts, gapless numbers, frozen, red reversal, one valid per donation."""

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from donations.models import PdfStatus, Receipt, ReceiptStatus
from donations.services.intake import donation_confirm, donation_register
from donations.services.receipts import (
    receipt_issue,
    receipt_number_report,
    receipt_reverse,
    receipts_issue_pending,
)
from tests.donations.factories import CampaignFactory, OrganisationDonorFactory, PersonDonorFactory
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def confirmed(clerk, reviewer, city, campaign, **overrides):
    arguments = {
        "by": clerk,
        "branch": city,
        "donor": overrides.pop("donor", None) or OrganisationDonorFactory(branch=city, name="澜州镕喆科技有限公司"),
        "campaign": campaign,
        "kind": "cash",
        "channel": "bank",
        "received_at": timezone.now() - timedelta(hours=1),
        "amount": "12345.67",
    }
    arguments.update(overrides)
    return donation_confirm(donation=donation_register(**arguments), by=reviewer)


def test_issue_freezes_payer_amount_and_words(clerk, reviewer, city, campaign):
    donation = confirmed(clerk, reviewer, city, campaign)
    receipt = receipt_issue(donation=donation, by=reviewer)
    assert receipt.number == 1
    assert receipt.number_display == "00000001"
    assert receipt.payer_name == "澜州镕喆科技有限公司"
    assert receipt.total_amount == Decimal("12345.67")
    assert receipt.total_in_words == "壹万贰仟叁佰肆拾伍元陆角柒分"
    assert receipt.reviewer_name == "周明远"  # 复核人: who confirmed the money arrived
    assert receipt.issuer_name == "林晓雨"  # 收款人: who took it in
    assert receipt.payee == city.name
    assert len(receipt.check_code) == 8
    # a later change of the donor or donation never touches the issued receipt
    donation.donor.name = "改名后的公司"
    donation.donor.save()
    receipt.refresh_from_db()
    assert receipt.payer_name == "澜州镕喆科技有限公司"


def test_pdf_is_rendered_and_shows_the_capital_amount(clerk, reviewer, city, campaign):
    from pypdf import PdfReader

    receipt = receipt_issue(donation=confirmed(clerk, reviewer, city, campaign), by=reviewer)
    receipt.refresh_from_db()  # tasks run eagerly in tests, after commit
    if receipt.pdf_status != PdfStatus.READY:
        from donations.services.receipts import receipt_render_pdf

        receipt = receipt_render_pdf(receipt_id=receipt.pk)
    assert receipt.pdf_status == PdfStatus.READY
    with receipt.pdf.open("rb") as handle:
        text = "".join(page.extract_text() for page in PdfReader(handle).pages)
    compact = text.replace(" ", "").replace("\n", "")
    assert "壹万贰仟叁佰肆拾伍元陆角柒分" in compact
    assert "12,345.67" in compact
    assert "澜州镕喆科技有限公司" in compact
    assert "公益事业捐赠统一票据" in compact


def test_no_receipt_before_confirmation(clerk, reviewer, city, campaign):
    donation = donation_register(
        by=clerk, branch=city, donor=PersonDonorFactory(branch=city), campaign=campaign, kind="cash",
        channel="on_site", received_at=timezone.now(), amount="50",
    )  # fmt: skip
    with pytest.raises(ValidationError) as excinfo:
        receipt_issue(donation=donation, by=reviewer)
    assert "donation" in excinfo.value.message_dict
    assert not Receipt.objects.exists()


def test_only_finance_issues_and_reverses(clerk, reviewer, city, campaign):
    donation = confirmed(clerk, reviewer, city, campaign)
    with pytest.raises(PermissionDenied):
        receipt_issue(donation=donation, by=clerk)
    receipt = receipt_issue(donation=donation, by=reviewer)
    with pytest.raises(PermissionDenied):
        receipt_reverse(receipt=receipt, by=clerk, reason="x")


def test_one_valid_receipt_per_donation(clerk, reviewer, city, campaign):
    donation = confirmed(clerk, reviewer, city, campaign)
    receipt_issue(donation=donation, by=reviewer)
    with pytest.raises(ValidationError):
        receipt_issue(donation=donation, by=reviewer)
    # and the database refuses it even past the service
    first = Receipt.objects.get()
    duplicate = Receipt(
        **{f.attname: getattr(first, f.attname) for f in Receipt._meta.concrete_fields if f.attname != "id"}
    )
    duplicate.number, duplicate.token = 99, "another-token"
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_red_reversal_keeps_the_original_and_reissues_with_a_new_number(clerk, reviewer, city, campaign):
    donation = confirmed(clerk, reviewer, city, campaign)
    original = receipt_issue(donation=donation, by=reviewer)
    with pytest.raises(ValidationError) as excinfo:
        receipt_reverse(receipt=original, by=reviewer, reason="")
    assert "reason" in excinfo.value.message_dict
    replacement = receipt_reverse(receipt=original, by=reviewer, reason="交款人名称有误")
    original.refresh_from_db()
    assert original.status == ReceiptStatus.REVERSED
    assert original.reversal.reason == "交款人名称有误"
    assert original.reversal.reversed_by == reviewer
    assert replacement.number == original.number + 1
    assert replacement.replaces == original
    assert replacement.status == ReceiptStatus.VALID
    with pytest.raises(ValidationError):
        receipt_reverse(receipt=original, by=reviewer, reason="again")


def test_receipts_are_never_deleted(clerk, reviewer, city, campaign):
    receipt = receipt_issue(donation=confirmed(clerk, reviewer, city, campaign), by=reviewer)
    with pytest.raises(ValidationError):
        receipt.delete()
    assert Receipt.objects.filter(pk=receipt.pk).exists()


def test_goods_without_evidence_of_value_get_quantities_and_no_amount(clerk, reviewer, city, campaign):
    donation = confirmed(
        clerk, reviewer, city, campaign, kind="in_kind", amount=None,
        items=[{"name": "方便面", "quantity": "200", "unit": "箱", "unit_value": "45", "value_basis": "donor_quote"}],
    )  # fmt: skip
    receipt = receipt_issue(donation=donation, by=reviewer)
    assert receipt.total_amount is None
    assert receipt.total_in_words == ""
    assert receipt.lines[0]["quantity"] == "200"
    assert receipt.lines[0]["amount"] == ""
    assert "仅列数量" in receipt.remark


def test_goods_with_an_invoice_get_an_amount(clerk, reviewer, city, campaign):
    donation = confirmed(
        clerk, reviewer, city, campaign, kind="in_kind", amount=None,
        items=[
            {"name": "防护服", "quantity": "1000", "unit": "套", "unit_value": "105.11", "value_basis": "invoice"},
            {"name": "消毒液", "quantity": "50", "unit": "桶", "unit_value": "20", "value_basis": "none"},
        ],
    )  # fmt: skip
    receipt = receipt_issue(donation=donation, by=reviewer)
    assert receipt.total_amount == Decimal("105110.00")
    assert receipt.total_in_words == "壹拾万伍仟壹佰壹拾元整"
    assert [line["amount"] for line in receipt.lines] == ["105,110.00", ""]


def test_nightly_issue_covers_donors_who_want_one_and_is_idempotent(clerk, reviewer, city, campaign):
    wants = confirmed(clerk, reviewer, city, campaign)
    declines = confirmed(clerk, reviewer, city, campaign, donor=PersonDonorFactory(branch=city, wants_receipt=False))
    assert receipts_issue_pending() == 1
    assert receipts_issue_pending() == 0
    assert Receipt.objects.filter(donation=wants).exists()
    assert not Receipt.objects.filter(donation=declines).exists()  # its internal record stays
    assert declines.certificate


def test_numbering_report_accounts_for_every_number(clerk, reviewer, city, campaign):
    first = receipt_issue(donation=confirmed(clerk, reviewer, city, campaign), by=reviewer)
    receipt_reverse(receipt=first, by=reviewer, reason="金额有误")
    receipt_issue(donation=confirmed(clerk, reviewer, city, campaign), by=reviewer)
    report = list(receipt_number_report(branch=city, year=timezone.localdate().year))
    assert [(use.number, use.state) for use in report] == [(1, "已冲红"), (2, "有效"), (3, "有效")]


@pytest.mark.django_db(transaction=True)
def test_concurrent_issuance_twenty_receipts_gapless_and_same_donation_once(branch_tree):
    """20 threads issue receipts for 20 donations; 2 more race on one donation: exactly one wins."""
    from tests.donations.factories import CampaignFactory
    from tests.factories import StaffFactory

    city = branch_tree["city"]
    clerk = StaffFactory(branch=city, roles=["donation_clerk"])
    reviewer = StaffFactory(branch=city, roles=["finance_reviewer"])
    campaign = CampaignFactory(branch=city)
    donations = [confirmed(clerk, reviewer, city, campaign, amount=f"{n + 1}.00") for n in range(21)]

    results, errors = [], []
    lock = threading.Lock()
    barrier = threading.Barrier(22)

    def issue(donation):
        try:
            barrier.wait(timeout=30)
            receipt = receipt_issue(donation=donation, by=reviewer)
            with lock:
                results.append((donation.pk, receipt.number))
        except ValidationError as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    targets = donations[:20] + [donations[20], donations[20]]
    threads = [threading.Thread(target=issue, args=(d,)) for d in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    numbers = sorted(number for _pk, number in results)
    assert numbers == list(range(1, 22))
    assert len(errors) == 1  # the second issue of the same donation was refused
    assert Receipt.objects.filter(donation=donations[20], status=ReceiptStatus.VALID).count() == 1


def test_receipts_carry_the_invoice_code_registered_for_their_branch_and_year(
    client, clerk, reviewer, branch_tree, city, campaign
):
    from django.urls import reverse

    from donations.models import ReceiptCode

    year = timezone.localdate().year
    ReceiptCode.objects.create(branch=city, year=year, code="33012601")
    receipt = receipt_issue(donation=confirmed(clerk, reviewer, city, campaign), by=reviewer)
    assert receipt.invoice_code == "33012601" and str(receipt) == "33012601 00000001"
    # the public verification page finds it by the registered code
    verify = reverse(
        "donations:receipt_verify", args=[receipt.invoice_code, receipt.number_display, receipt.check_code]
    )
    assert "33012601" in client.get(verify).content.decode()
    # a branch that registered none keeps its code and the year
    east = branch_tree["east"]
    east_reviewer = StaffFactory(branch=east, roles=["finance_reviewer"])
    east_campaign = CampaignFactory(branch=east, slug="east-relief")
    gift = confirmed(StaffFactory(branch=east, roles=["donation_clerk"]), east_reviewer, east, east_campaign)
    assert receipt_issue(donation=gift, by=east_reviewer).invoice_code == f"{east.code}{year}"


def test_a_years_invoice_code_is_fixed_once_receipts_of_the_year_are_issued(clerk, reviewer, city, campaign):
    from donations.models import ReceiptCode

    year = timezone.localdate().year
    receipt_issue(donation=confirmed(clerk, reviewer, city, campaign), by=reviewer)  # under the fallback
    late = ReceiptCode(branch=city, year=year, code="33012601")
    with pytest.raises(ValidationError, match="不能再更改"):
        late.full_clean()
    next_year = ReceiptCode(branch=city, year=year + 1, code="33012701")
    next_year.full_clean()  # a year with no receipt yet
    next_year.save()
    next_year.code = "33012702"
    next_year.full_clean()  # still unused: a typo can be mended


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"code": "3301 2601"}, "code"),
        ({"code": "票据代码"}, "code"),
        ({"code": "abc12345"}, "code"),  # lower case is not how the bureau prints it
        ({"code": "1" * 21}, "code"),
        ({"code": "<script>"}, "code"),
        ({"code": ""}, "code"),
        ({"year": 1999}, "year"),
        ({"year": 30000}, "year"),
    ],
)
def test_bad_invoice_codes_are_refused_naming_the_field(city, fields, field):
    from donations.models import ReceiptCode

    values = {"branch": city, "year": 2026, "code": "33012601", **fields}
    with pytest.raises(ValidationError) as refused:
        ReceiptCode(**values).full_clean()
    assert field in refused.value.message_dict
    assert not ReceiptCode.objects.exists()


def test_one_code_per_branch_and_year_and_never_the_same_code_twice(branch_tree, city):
    from donations.models import ReceiptCode

    ReceiptCode.objects.create(branch=city, year=2026, code="33012601")
    for values in (
        {"branch": city, "year": 2026, "code": "33012699"},
        {"branch": branch_tree["east"], "year": 2026, "code": "33012601"},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            ReceiptCode.objects.create(**values)


def test_finance_registers_codes_in_the_admin_and_clerks_cannot(client, clerk, reviewer, city, campaign):
    from django.urls import reverse

    from donations.models import ReceiptCode

    year = timezone.localdate().year
    client.force_login(clerk)
    assert client.get(reverse("admin:donations_receiptcode_add")).status_code == 403
    client.force_login(reviewer)
    response = client.post(
        reverse("admin:donations_receiptcode_add"), {"branch": city.pk, "year": year, "code": "33012601"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    receipt_issue(donation=confirmed(clerk, reviewer, city, campaign), by=reviewer)
    listing = client.get(reverse("admin:donations_receiptcode_changelist")).content.decode()
    assert "33012601" in listing and '<td class="field-receipts_issued">1</td>' in listing
    code = ReceiptCode.objects.get()
    changed = client.post(
        reverse("admin:donations_receiptcode_change", args=[code.pk]),
        {"branch": city.pk, "year": year, "code": "33012602"},
    )
    assert changed.status_code == 200 and "不能再更改" in changed.content.decode()
    assert ReceiptCode.objects.get().code == "33012601"


@pytest.mark.django_db(transaction=True)
def test_a_code_change_waits_for_a_receipt_being_issued_and_is_then_refused(branch_tree):
    """The check that no receipt of the year exists runs under the numbering lock: a receipt
    issued while a finance reviewer saves the year's code makes the save fail, never mix codes."""
    from donations.models import ReceiptCode
    from donations.services.receipts import receipt_code_save
    from tests.donations.factories import CampaignFactory

    city = branch_tree["city"]
    clerk = StaffFactory(branch=city, roles=["donation_clerk"])
    reviewer = StaffFactory(branch=city, roles=["finance_reviewer"])
    donation = confirmed(clerk, reviewer, city, CampaignFactory(branch=city))
    year = timezone.localdate().year
    issuing, outcome = threading.Event(), {}

    def issue():
        try:
            with transaction.atomic():
                receipt_issue(donation=donation, by=reviewer)  # holds the year's numbering lock
                issuing.set()
                time.sleep(1.0)  # the code is saved meanwhile
        finally:
            issuing.set()
            connections.close_all()

    def register():
        try:
            issuing.wait(timeout=30)
            receipt_code_save(receipt_code=ReceiptCode(branch=city, year=year, code="33012601"), by=reviewer)
            outcome["saved"] = True
        except ValidationError as refused:
            outcome["refused"] = refused.message_dict
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issue), threading.Thread(target=register)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert "code" in outcome.get("refused", {}), outcome
    assert not ReceiptCode.objects.exists()
    assert set(Receipt.objects.values_list("invoice_code", flat=True)) == {f"{city.code}{year}"}


def test_only_finance_of_the_branch_saves_a_code(clerk, reviewer, branch_tree, city):
    from donations.models import ReceiptCode
    from donations.services.receipts import receipt_code_save

    with pytest.raises(PermissionDenied):  # a clerk of the branch
        receipt_code_save(receipt_code=ReceiptCode(branch=city, year=2026, code="33012601"), by=clerk)
    west_finance = StaffFactory(branch=branch_tree["west"], roles=["finance_reviewer"])
    with pytest.raises(PermissionDenied):  # finance of another branch
        receipt_code_save(
            receipt_code=ReceiptCode(branch=branch_tree["east"], year=2026, code="33012601"), by=west_finance
        )
    assert not ReceiptCode.objects.exists()
    assert receipt_code_save(receipt_code=ReceiptCode(branch=city, year=2026, code="33012601"), by=reviewer).pk
