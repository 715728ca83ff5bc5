"""Intake at surge speed (issue 13): a walk-in cash gift from an existing donor in one form and one
submit, a new donor added without leaving the form, and 复核 / 开具票据 from the donation's own page.

The browser flow is timed and the time printed (and kept in var/test/timings.txt) for a person to
read; no test asserts on time.
"""

import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from donations.models import Donation, DonationStatus, Donor, Receipt
from tests.donations.factories import CampaignFactory, PersonDonorFactory
from tests.e2e.test_donation_flow import choose_donor, login
from tests.factories import CityBranchFactory, StaffFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TIMINGS = Path(__file__).resolve().parents[2] / "var" / "test" / "timings.txt"


@pytest.fixture
def desk(db):
    city = CityBranchFactory(name="澜州市红十字会", code="LZ")
    StaffFactory(username="e2e-clerk", branch=city, roles=["donation_clerk"])
    StaffFactory(username="e2e-reviewer", branch=city, roles=["finance_reviewer"])
    # thousands of donors in a surge: the form searches, it never lists them all
    for n in range(300):
        PersonDonorFactory(branch=city, name=f"捐赠人{n:03d}", phone=f"1390000{n:04d}")
    donor = PersonDonorFactory(branch=city, name="王喆", phone="13912345678")
    campaign = CampaignFactory(branch=city, name="抗疫专项募捐", is_emergency=True)
    return {"city": city, "donor": donor, "campaign": campaign}


def test_walk_in_cash_gift_in_one_form_and_one_submit(page, live_server, desk, screenshot_dir):
    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, live_server, "e2e-clerk")
    started = time.perf_counter()
    page.goto(live_server.url + "/admin/donations/donation/add/")
    # the goods lines are hidden for a cash gift; now, the emergency campaign and the branch are set
    expect(page.locator("#donation-goods")).to_be_hidden()
    assert page.locator("#id_received_at").input_value()
    assert page.locator("#id_campaign").input_value() == str(desk["campaign"].pk)
    choose_donor(page, "5678", "王喆")
    page.get_by_label("金额（元）").fill("500")
    page.screenshot(path=screenshot_dir / "intake-walk-in.png", full_page=True)
    page.get_by_role("button", name="登记").click()
    expect(page.locator(".messagelist")).to_contain_text("待另一名工作人员复核")
    elapsed = time.perf_counter() - started
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    with TIMINGS.open("a") as timings:
        timings.write(f"intake_walk_in_cash_browser_s: {elapsed:.2f}\n")
    print(f"walk-in cash gift, form opened to registered: {elapsed:.2f} s")

    donation = Donation.objects.get()
    assert (donation.donor, donation.amount, donation.campaign) == (desk["donor"], 500, desk["campaign"])
    assert donation.branch == desk["city"]

    # the reviewer confirms and issues the receipt from the donation's own page
    page.context.clear_cookies()
    login(page, live_server, "e2e-reviewer")
    page.goto(live_server.url + f"/admin/donations/donation/{donation.pk}/change/")
    page.screenshot(path=screenshot_dir / "donation-page-before-review.png", full_page=True)
    page.get_by_role("button", name="复核（双人双签）").click()
    expect(page.locator(".messagelist")).to_contain_text("已复核捐赠")
    donation.refresh_from_db()
    assert donation.status == DonationStatus.CONFIRMED
    page.get_by_role("button", name="开具捐赠票据").click()
    expect(page.locator(".messagelist")).to_contain_text("开具票据")
    assert Receipt.objects.filter(donation=donation).count() == 1
    # a donation's page shows formatted values only: no editable field, the amount with its separator
    expect(page.locator("form#donation_form input[type=text], form#donation_form input[type=number]")).to_have_count(0)
    expect(page.locator("div.field-amount_display > .readonly")).to_have_text("500.00 元")
    expect(page.locator(".field-total_display")).to_contain_text("500.00 元")
    page.screenshot(path=screenshot_dir / "donation-page-after-review.png", full_page=True)


def test_a_new_donor_is_added_without_leaving_the_form(page, live_server, desk):
    login(page, live_server, "e2e-clerk")
    page.goto(live_server.url + "/admin/donations/donation/add/")
    with page.expect_popup() as popup_info:
        page.locator("#add_id_donor").click()
    popup = popup_info.value
    popup.get_by_label("类型").select_option("organisation")
    popup.get_by_label("名称或姓名").fill("澜州新城建设有限公司")
    with popup.expect_event("close"):
        popup.get_by_role("button", name="保存", exact=True).click()
    # the new donor is chosen in the form that stayed open
    expect(page.locator("#id_donor + .select2")).to_contain_text("澜州新城建设有限公司")
    page.get_by_label("金额（元）").fill("2000")
    page.get_by_role("button", name="登记").click()
    expect(page.locator(".messagelist")).to_contain_text("待另一名工作人员复核")
    assert Donation.objects.get().donor == Donor.objects.get(name="澜州新城建设有限公司")
