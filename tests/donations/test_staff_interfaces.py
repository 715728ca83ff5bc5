"""The admin pages and the staff API of donations: scoped, and every write through the services."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from donations.models import Donation, DonationStatus, Receipt
from donations.services.intake import donation_confirm, donation_register
from tests.donations.factories import CampaignFactory, DonationFactory, PersonDonorFactory
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def _register(clerk, city, campaign, **overrides):
    return donation_register(
        **{
            "by": clerk, "branch": city, "donor": PersonDonorFactory(branch=city), "campaign": campaign,
            "kind": "cash", "channel": "bank", "received_at": timezone.now() - timedelta(hours=1), "amount": "500.00",
            **overrides,
        }
    )  # fmt: skip


# --- API -----------------------------------------------------------------------------


def _payload(city, campaign, overrides=None):
    donor = PersonDonorFactory(branch=city)
    return {
        "branch": city.pk, "donor": donor.pk, "campaign": campaign.pk, "kind": "cash", "channel": "wechat",
        "channel_transaction_id": "4200001234", "received_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "amount": "88.80", **(overrides or {}),
    }  # fmt: skip


def test_api_create_list_confirm_issue_reverse(client, clerk, reviewer, city, campaign):
    client.force_login(clerk)
    response = client.post("/api/donations/", _payload(city, campaign), content_type="application/json")
    assert response.status_code == 201, response.content
    donation_id = response.json()["id"]
    assert response.json()["status"] == "registered"
    assert client.get("/api/donations/").json()["results"][0]["id"] == donation_id

    # the registrar cannot confirm: the message names the rule
    clerk.user_permissions.add(*__import__("django.contrib.auth.models").contrib.auth.models.Permission.objects.filter(
        codename="confirm_donation"))  # fmt: skip
    response = client.post(f"/api/donations/{donation_id}/confirm/")
    assert response.status_code == 403
    assert "双人双签" in response.json()["detail"]

    client.force_login(reviewer)
    assert client.post(f"/api/donations/{donation_id}/confirm/").status_code == 200
    response = client.post(f"/api/donations/{donation_id}/issue-receipt/")
    assert response.status_code == 201, response.content
    receipt_id = response.json()["id"]
    assert response.json()["total_in_words"] == "捌拾捌元捌角"
    response = client.post(
        f"/api/receipts/{receipt_id}/reverse/", {"reason": "抬头有误"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["replaces"] == receipt_id
    assert Receipt.objects.filter(donation_id=donation_id).count() == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "10000000001"}, "amount"),
        ({"amount": "1e5"}, "amount"),
        ({"received_at": "2999-01-01T00:00:00+08:00"}, "received_at"),
        ({"received_at": "not a date"}, "received_at"),
        ({"designated_recipient": 424242}, "designated_recipient"),
        ({"kind": "in_kind", "amount": None, "items": [{"name": "口罩", "quantity": "0", "unit": "只"}]},
         "items[0].quantity"),
        ({"campaign": "<script>"}, "campaign"),
        ({"donor": None}, "donor"),
    ],
)  # fmt: skip
def test_api_bad_input_is_refused_naming_the_field(client, clerk, city, campaign, overrides, field):
    client.force_login(clerk)
    payload = _payload(city, campaign, overrides)
    response = client.post("/api/donations/", payload, content_type="application/json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Donation.objects.exists()


def test_api_is_branch_scoped(client, branch_tree, campaign):
    east_staff = StaffFactory(branch=branch_tree["east"], roles=["district_staff"])
    west_donation = DonationFactory(branch=branch_tree["west"])
    client.force_login(east_staff)
    assert client.get("/api/donations/").json()["results"] == []
    assert client.get(f"/api/donations/{west_donation.pk}/").status_code == 404
    payload = _payload(branch_tree["west"], campaign)
    response = client.post("/api/donations/", payload, content_type="application/json")
    assert response.status_code == 400
    assert "branch" in response.json()


def test_api_list_query_count_does_not_grow_with_rows(client, city, clerk, django_assert_max_num_queries):
    campaign = CampaignFactory(branch=city)
    for _ in range(30):
        DonationFactory(branch=city, campaign=campaign)
    client.force_login(clerk)
    with django_assert_max_num_queries(8):
        response = client.get("/api/donations/")
    assert len(response.json()["results"]) == 30


# --- admin ------------------------------------------------------------------------------------


def test_admin_register_form_calls_the_service_and_shows_field_errors(client, clerk, city, campaign):
    client.force_login(clerk)
    url = reverse("admin:donations_donation_add")
    assert client.get(url).status_code == 200
    donor = PersonDonorFactory(branch=city)
    base = {
        "branch": city.pk, "donor": donor.pk, "campaign": campaign.pk, "kind": "in_kind", "channel": "on_site",
        "received_at": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "items-TOTAL_FORMS": "3", "items-INITIAL_FORMS": "0", "items-MIN_NUM_FORMS": "0", "items-MAX_NUM_FORMS": "1000",
        "items-0-name": "医用口罩", "items-0-quantity": "0", "items-0-unit": "只", "items-0-value_basis": "none",
        # a browser submits the untouched extra lines with their initial choice
        "items-1-value_basis": "none", "items-2-value_basis": "none",
    }  # fmt: skip
    response = client.post(url, base)
    assert response.status_code == 200
    assert response.context["formset"].forms[0].errors["quantity"]
    assert not Donation.objects.exists()
    response = client.post(url, {**base, "items-0-quantity": "5000"})
    assert response.status_code == 302
    donation = Donation.objects.get()
    assert donation.items.get().name == "医用口罩"
    assert donation.registered_by == clerk


def test_admin_confirm_action_enforces_dual_signature(client, clerk, reviewer, city, campaign):
    own = _register(reviewer, city, campaign)
    other = _register(clerk, city, campaign)
    client.force_login(reviewer)
    response = client.post(
        reverse("admin:donations_donation_changelist"),
        {"action": "confirm", "_selected_action": [own.pk, other.pk]},
        follow=True,
    )
    texts = [str(m) for m in response.context["messages"]]
    assert any("双人双签" in t for t in texts)
    own.refresh_from_db()
    other.refresh_from_db()
    assert own.status == DonationStatus.REGISTERED
    assert other.status == DonationStatus.CONFIRMED


def test_admin_changelist_highlights_unconfirmed_cash_and_is_scoped(client, branch_tree, clerk, city, campaign):
    _register(clerk, city, campaign)
    DonationFactory(branch=branch_tree["west"], serial="WEST-1")
    east_staff = StaffFactory(branch=branch_tree["east"], roles=["district_staff"])
    client.force_login(clerk)
    page = client.get(reverse("admin:donations_donation_changelist")).content.decode()
    assert "donation-pending-cash" in page
    client.force_login(east_staff)
    page = client.get(reverse("admin:donations_donation_changelist")).content.decode()
    assert "WEST-1" not in page


def test_admin_daily_report_on_screen_and_xlsx(client, clerk, reviewer, city, campaign):
    from io import BytesIO

    from openpyxl import load_workbook

    donation_confirm(donation=_register(clerk, city, campaign, amount="1200.50"), by=reviewer)
    donation_confirm(donation=_register(clerk, city, campaign, amount="99.50"), by=reviewer)
    _register(clerk, city, campaign, amount="7.00")  # not confirmed: shown apart, not counted
    client.force_login(reviewer)
    url = reverse("admin:donations_daily_report")
    # the day the gifts arrived (an hour ago may be yesterday just after midnight)
    day = timezone.localtime(Donation.objects.earliest("received_at").received_at).date().isoformat()
    page = client.get(url, {"date": day}).content.decode()
    assert "1,300.00" in page
    response = client.get(url, {"date": day, "format": "xlsx"})
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][0] == "募捐活动"
    assert rows[1][2] == 2 and rows[1][3] == 1300
    assert any(row and row[0] == "待复核捐款笔数" and row[1] == 1 for row in rows)


def test_admin_receipt_reverse_page(client, clerk, reviewer, city, campaign):
    from donations.services.receipts import receipt_issue

    receipt = receipt_issue(
        donation=donation_confirm(donation=_register(clerk, city, campaign), by=reviewer), by=reviewer
    )
    client.force_login(reviewer)
    url = reverse("admin:donations_receipt_reverse", args=[receipt.pk])
    response = client.post(url, {"reason": "", "reissue": "on"})
    assert response.status_code == 200 and response.context["form"].errors
    response = client.post(url, {"reason": "交款人名称有误", "reissue": "on"})
    assert response.status_code == 302
    receipt.refresh_from_db()
    assert receipt.status == "reversed"
    client.force_login(clerk)
    assert client.get(url).status_code == 403


def test_admin_correction_page_records_the_change(client, clerk, reviewer, city, campaign):
    from donations.models import DonationCorrection

    donation = donation_confirm(donation=_register(clerk, city, campaign, amount="1000.00"), by=reviewer)
    client.force_login(reviewer)
    change_page = client.get(reverse("admin:donations_donation_change", args=[donation.pk])).content.decode()
    url = reverse("admin:donations_correct", args=[donation.pk])
    assert url in change_page
    form = client.get(url).context["form"]
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data["received_at"] = timezone.localtime(donation.received_at).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {**data, "amount": "100.00", "reason": ""})
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    response = client.post(url, {**data, "amount": "100.00", "reason": "银行回单金额为 100 元"})
    assert response.status_code == 302
    correction = DonationCorrection.objects.get(donation=donation)
    assert correction.changes == {"amount": {"before": "1000.00", "after": "100.00"}}
    client.force_login(clerk)
    assert client.get(url).status_code == 403


def test_admin_numbering_report_lists_every_number(client, clerk, reviewer, city, campaign):
    from donations.services.receipts import receipt_issue, receipt_reverse

    first = receipt_issue(
        donation=donation_confirm(donation=_register(clerk, city, campaign), by=reviewer), by=reviewer
    )
    receipt_reverse(receipt=first, by=reviewer, reason="抬头写错")
    client.force_login(reviewer)
    page = client.get(reverse("admin:donations_receipt_numbering"), {"branch": city.pk}).content.decode()
    assert "00000001" in page and "00000002" in page
    assert "抬头写错" in page
    assert "缺号 0 个" in page
