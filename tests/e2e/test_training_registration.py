"""The public registers for a first-aid course from a phone: the calendar's cards, a session, the
form with consent, the private link, and cancelling through it (the first waiting takes the seat)."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from training.models import Registration, RegistrationStatus, Session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def demo(db):
    call_command("seed_demo", "--with-users", verbosity=0)


def test_register_from_a_phone_then_cancel_through_the_private_link(page, live_server, demo, screenshot_dir):
    page.set_viewport_size(PHONE)
    session = Session.objects.get(title="南山区中小学教师救护员培训班")
    page.goto(live_server.url + "/training/")
    # the filters fold behind one button; each session is a card, its title a 44 px link
    toggle = page.get_by_role("button", name="筛选")
    assert page.locator("#calendar-filters").is_hidden() and toggle.bounding_box()["height"] >= 44
    toggle.click()
    page.get_by_label("地区（含下级）").select_option(label="澜州市南山区红十字会")
    page.locator("#calendar-filters button[type=submit]").click()
    link = page.get_by_role("link", name=session.title)
    assert link.bounding_box()["height"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.screenshot(path=screenshot_dir / "phone-training-calendar.png", full_page=True)
    link.click()
    page.get_by_role("link", name="我要报名").click()

    page.get_by_label("姓名").fill("陆小凤")
    page.get_by_label("手机号码").fill("139 0571 8888")
    page.get_by_label("居民身份证号码").fill("11010519491231002x")
    page.get_by_role("button", name="提交").click()
    # without the consent ticked nothing is written, and the error names what is missing
    expect(page.locator("#signup-errors")).to_contain_text("请阅读并勾选")
    assert not Registration.objects.filter(person__name="陆小凤").exists()
    page.get_by_label("居民身份证号码").fill("11010519491231002x")
    page.locator("#id_consent").check()
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_role("heading", name="报名成功")).to_be_visible()
    page.screenshot(path=screenshot_dir / "phone-training-registered.png", full_page=True)
    registration = Registration.objects.get(person__name="陆小凤")
    assert registration.status == RegistrationStatus.REGISTERED

    page.locator(".private-link a").click()
    expect(page.get_by_text("陆**")).to_be_visible()
    page.get_by_role("button", name="取消报名").click()
    expect(page.get_by_text("已撤回", exact=True)).to_be_visible()
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.CANCELLED
