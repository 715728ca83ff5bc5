"""The AED page's "find the AED nearest to me" in a real browser: the Geolocation API gives a
position, the script sends it rounded to about 100 m, the server lists the nearest first; a refused
permission leaves a message and the district list."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import StaffFactory
from training.services.aeds import aed_register

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def aeds(branch_tree):
    officer = StaffFactory(branch=branch_tree["city"], roles=["training_officer"])
    for place, lat, lng in (("远处体育馆", "30.300000", "120.200000"), ("近处地铁站", "30.262500", "120.161200")):
        aed_register(
            branch=branch_tree["east"], place=place, address="中山路 1 号", latitude=Decimal(lat),
            longitude=Decimal(lng), by=officer,
        )  # fmt: skip


def test_the_nearest_aed_comes_first_from_the_browsers_location(page, context, live_server, aeds, screenshot_dir):
    context.grant_permissions(["geolocation"], origin=live_server.url)
    context.set_geolocation({"latitude": 30.26234, "longitude": 120.16118})
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/training/aeds/")
    button = page.locator("#aed-locate")
    assert button.is_visible()
    with page.expect_navigation():
        button.click()
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"lat": ["30.262"], "lng": ["120.161"]}  # rounded before it leaves the phone
    rows = page.locator("table.roll tbody tr")
    assert rows.count() == 2
    assert "近处地铁站" in rows.nth(0).inner_text()
    assert "米" in rows.nth(0).locator("td").first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.screenshot(path=str(screenshot_dir / "aed-nearest-located.png"), full_page=True)


def test_a_refused_location_says_so_and_keeps_the_district_list(page, context, live_server, aeds):
    context.clear_permissions()
    page.goto(live_server.url + "/training/aeds/")
    # a visitor who says no (without a granted permission Chromium may also just wait: answer at once)
    page.evaluate("() => { navigator.geolocation.getCurrentPosition = (ok, fail) => fail({code: 1}); }")
    page.locator("#aed-locate").click()
    page.wait_for_function("document.getElementById('aed-locate-status').textContent.includes('区县')")
    assert page.url.endswith("/training/aeds/")
    assert page.locator("select#district").is_visible()
