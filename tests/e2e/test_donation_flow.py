"""A surge-day flow in a real browser: clerk registers, reviewer confirms and issues, donor looks it up."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from donations.models import Donation, Receipt
from tests.donations.factories import CampaignFactory, PersonDonorFactory
from tests.factories import CityBranchFactory, StaffFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def login(page, live_server, username, password="correct-horse-battery"):
    page.goto(live_server.url + "/admin/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()


def choose_donor(page, typed: str, name: str) -> None:
    """The donor field searches as one types (the admin's select2 autocomplete)."""
    page.locator("#id_donor + .select2 .select2-selection").click()
    page.locator(".select2-search__field").fill(typed)
    page.locator(".select2-results__option", has_text=name).click()


def test_register_confirm_issue_and_look_up(page, live_server, screenshot_dir):
    city = CityBranchFactory(name="澜州市红十字会", code="LZ")
    StaffFactory(username="e2e-clerk", branch=city, roles=["donation_clerk"], last_name="林", first_name="晓雨")
    StaffFactory(username="e2e-reviewer", branch=city, roles=["finance_reviewer"], last_name="周", first_name="明远")
    donor = PersonDonorFactory(branch=city, name="王喆", phone="13912345678")
    campaign = CampaignFactory(branch=city, name="抗疫专项募捐")

    login(page, live_server, "e2e-clerk")
    page.goto(live_server.url + "/admin/donations/donation/add/")
    choose_donor(page, "5678", donor.name)
    page.get_by_label("募捐活动").select_option(str(campaign.pk))
    page.get_by_label("类型", exact=True).select_option("cash")
    page.get_by_label("渠道", exact=True).select_option("bank")
    page.get_by_label("到账时间").fill((timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("金额（元）").fill("12345.67")
    page.screenshot(path=screenshot_dir / "donation-register.png", full_page=True)
    page.get_by_role("button", name="登记").click()
    expect(page.locator(".messagelist")).to_contain_text("待另一名工作人员复核")
    donation = Donation.objects.get()

    page.goto(live_server.url + "/admin/donations/donation/")
    expect(page.locator(".donation-pending-cash")).to_be_visible()
    page.screenshot(path=screenshot_dir / "donation-list-pending.png", full_page=True)

    page.context.clear_cookies()
    login(page, live_server, "e2e-reviewer")
    page.goto(live_server.url + "/admin/donations/donation/")
    page.locator(f"input[name=_selected_action][value='{donation.pk}']").check()
    page.locator("select[name=action]").select_option("confirm")
    page.get_by_role("button", name="执行").click()
    expect(page.locator(".messagelist")).to_contain_text("已复核 1 笔捐赠")
    page.locator(f"input[name=_selected_action][value='{donation.pk}']").check()
    page.locator("select[name=action]").select_option("issue_receipts")
    page.get_by_role("button", name="执行").click()
    expect(page.locator(".messagelist")).to_contain_text("已开具 1 张票据")
    receipt = Receipt.objects.get()
    assert receipt.total_in_words == "壹万贰仟叁佰肆拾伍元陆角柒分"

    page.context.clear_cookies()
    page.goto(live_server.url + "/donations/lookup/")
    page.get_by_label("捐赠流水号").fill(donation.serial)
    page.get_by_label("手机号后四位").fill("5678")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_text("王*")).to_be_visible()
    expect(page.get_by_text("12,345.67")).to_be_visible()
    page.screenshot(path=screenshot_dir / "donation-self-service.png", full_page=True)

    # the donor downloads the receipt and the certificate from the page the lookup opened
    with page.expect_download() as receipt_download:
        page.get_by_role("link", name="下载捐赠票据（PDF）").click()
    receipt_path = screenshot_dir / "receipt-downloaded.pdf"
    receipt_download.value.save_as(receipt_path)
    assert receipt_path.read_bytes().startswith(b"%PDF")
    assert receipt_download.value.suggested_filename.endswith(".pdf")
