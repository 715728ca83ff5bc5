"""The public disclosure pages in a real browser: honor roll search, campaign charts."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from donations.models import DonationStatus
from donations.services.allocations import cash_pool_rebuild
from tests.donations.factories import CampaignFactory, DonationFactory, OrganisationDonorFactory, PersonDonorFactory
from tests.factories import CityBranchFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def roll():
    cache.clear()
    city = CityBranchFactory(name="澜州市红十字会", code="LZ")
    campaign = CampaignFactory(branch=city, name="抗疫专项募捐", slug="anti-epidemic", is_emergency=True)
    company = OrganisationDonorFactory(branch=city, name="澜州明德科技有限公司")
    person = PersonDonorFactory(branch=city, name="欧阳明轩")
    now = timezone.now()
    for day in range(5):
        for donor, amount in ((company, "10000.00"), (person, "50.00")):
            DonationFactory(
                branch=city, donor=donor, campaign=campaign, amount=amount, status=DonationStatus.CONFIRMED,
                received_at=now - timedelta(days=day, hours=1),
            )  # fmt: skip
    cash_pool_rebuild()
    yield campaign
    cache.clear()


def test_honor_roll_search(page, live_server, roll, screenshot_dir):
    page.goto(live_server.url + "/disclosure/")
    expect(page.get_by_role("heading", name="爱心榜单")).to_be_visible()
    expect(page.locator("table.roll tbody tr")).to_have_count(10)
    expect(page.locator("table.roll")).to_contain_text("欧阳**")
    expect(page.locator("table.roll")).not_to_contain_text("欧阳明轩")
    page.screenshot(path=screenshot_dir / "honor-roll.png", full_page=True)

    page.get_by_label("捐赠单位名称或流水号").fill("明德科技")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("table.roll tbody tr")).to_have_count(5)
    expect(page.locator("table.roll")).not_to_contain_text("欧阳**")

    page.get_by_label("捐赠单位名称或流水号").fill("欧阳明轩")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_text("没有符合条件的捐赠")).to_be_visible()
    page.screenshot(path=screenshot_dir / "honor-roll-search-masked.png", full_page=True)


def test_campaign_page_draws_its_charts(page, live_server, roll, screenshot_dir):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(live_server.url + f"/disclosure/campaigns/{roll.slug}/")
    expect(page.get_by_role("heading", name="抗疫专项募捐")).to_be_visible()
    expect(page.get_by_text("账目平衡")).to_be_visible()
    # ECharts draws SVG into both chart boxes (no CDN: the library is served from static/)
    expect(page.locator("#chart-daily svg")).to_have_count(1)
    expect(page.locator("#chart-daily svg path").first).to_be_attached()
    page.screenshot(path=screenshot_dir / "campaign-page.png", full_page=True)
    assert not errors, errors


def test_honor_roll_fits_a_phone(page, live_server, roll):
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(live_server.url + "/disclosure/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375


def test_bulletin_archive_page_and_pdf_download(page, live_server, roll, screenshot_dir):
    from donations.services.bulletins.compose import bulletin_draft
    from donations.services.bulletins.publish import bulletin_publish
    from tests.factories import StaffFactory

    reviewer = StaffFactory(branch=roll.branch, roles=["finance_reviewer"])
    day = timezone.localdate() - timedelta(days=1)
    draft = bulletin_draft(branch=roll.branch, kind="receipt", period_start=day - timedelta(days=4), period_end=day,
                           campaign=roll)  # fmt: skip
    bulletin = bulletin_publish(bulletin=draft, by=reviewer)  # its PDF renders on commit (eager Celery)

    page.goto(live_server.url + "/disclosure/bulletins/")
    page.get_by_role("link", name=bulletin.title).click()
    expect(page.get_by_text(bulletin.content_hash)).to_be_visible()
    expect(page.locator("body")).to_contain_text("欧阳**")
    page.screenshot(path=screenshot_dir / "bulletin.png", full_page=True)
    # the PDF opens in the browser's viewer: fetch what the link points to, as the browser does
    href = page.get_by_role("link", name="下载 PDF").get_attribute("href")
    response = page.request.get(live_server.url + href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    (screenshot_dir / "bulletin.pdf").write_bytes(response.body())
    assert response.body().startswith(b"%PDF")
