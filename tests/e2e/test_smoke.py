"""Home page and admin login in a real browser, with screenshots for a person to look at."""

import pytest
from playwright.sync_api import expect

from tests.factories import CityBranchFactory, CountyBranchFactory, StaffFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def portal():
    city = CityBranchFactory(name="澜州市红十字会", code="LZ", phone="0571-86001234", address="澜州市明德路 88 号")
    CountyBranchFactory(parent=city, name="澜州市东湖区红十字会", code="LZDH")
    StaffFactory(username="e2e-admin", branch=city, is_superuser=True, password="e2e-password-2026")
    return city


def test_home_page(page, live_server, portal, screenshot_dir):
    page.goto(live_server.url + "/")
    expect(page).to_have_title("澜州市红十字会")
    nav = page.get_by_role("navigation", name="主导航")
    for item in ["信息公开", "捐赠查询"]:
        expect(nav.get_by_role("link", name=item)).to_be_visible()
    # apps not built yet have no entry (issue 12: no navigation entry leads nowhere)
    for item in ["三献", "应急救护", "志愿服务", "新闻动态"]:
        expect(nav.get_by_role("link", name=item)).to_have_count(0)
    expect(page.get_by_role("contentinfo")).to_contain_text("0571-86001234")
    page.screenshot(path=screenshot_dir / "home.png", full_page=True)

    # the stylesheet loaded: the navigation bar is red, not unstyled
    background = nav.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(165, 15, 21)"

    # a phone-sized screen still shows the whole navigation without horizontal scrolling
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=screenshot_dir / "home-mobile.png", full_page=True)


def test_language_switch(page, live_server, portal):
    page.goto(live_server.url + "/")
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("navigation").first).to_contain_text("Information disclosure")


def test_admin_login(page, live_server, portal, screenshot_dir):
    page.goto(live_server.url + "/admin/")
    expect(page.locator("#site-name")).to_contain_text("澜州市红十字会 管理系统")
    page.screenshot(path=screenshot_dir / "admin-login.png")
    page.get_by_label("用户名").fill("e2e-admin")
    page.get_by_label("密码").fill("e2e-password-2026")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()
    expect(page.locator("#worker-status")).to_be_visible()
    page.screenshot(path=screenshot_dir / "admin-index.png", full_page=True)
