"""A medical-aid family applies from a phone and follows its status (issue 15, "done when"): the
project list, the medical project's page, the online application with a diagnosis and consent,
the number and private link, then the status lookup by number and the ID number's last six."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from relief.models import Application, ApplicationStatus, Project

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
ID_NUMBER = "11010519491231002X"  # invented, with a valid check digit


@pytest.fixture
def demo(db):
    call_command("seed_demo", "--with-users", verbosity=0)


def test_a_family_applies_from_a_phone_and_follows_its_status(page, live_server, demo, screenshot_dir, tmp_path):
    page.set_viewport_size(PHONE)
    project = Project.objects.filter(kind="medical", is_referral=False, status="open").first()
    page.goto(live_server.url + "/relief/")
    page.get_by_role("link", name=project.name).click()
    expect(page.get_by_role("heading", name=project.name)).to_be_visible()
    page.get_by_role("link", name="在线申请救助").click()

    page.get_by_label("所在区县").select_option(label="澜州市东湖区红十字会")
    page.get_by_role("radio", name="个人").check()
    page.get_by_label("姓名", exact=True).fill("司马示例")
    page.get_by_label("居民身份证号码").fill(ID_NUMBER)
    page.get_by_label("手机号码").fill("139 0571 6666")
    page.get_by_label("困难情况").fill("患儿确诊急性白血病，家庭无力承担治疗费用")
    diagnosis = tmp_path / "诊断证明.pdf"
    diagnosis.write_bytes(b"%PDF-1.4\n%invented diagnosis\n")
    page.locator("#id_document").set_input_files(str(diagnosis))
    page.locator("#id_consent").check()
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.get_by_role("button", name="提交").click()

    expect(page.get_by_role("heading", name="申请已提交")).to_be_visible()
    page.screenshot(path=screenshot_dir / "phone-relief-applied.png", full_page=True)
    application = Application.objects.get(beneficiary__name="司马示例")
    assert application.status == ApplicationStatus.SUBMITTED and application.documents.count() == 1
    expect(page.get_by_text(application.number)).to_be_visible()

    page.goto(live_server.url + "/relief/status/")
    page.get_by_label("申请编号").fill(application.number)
    page.get_by_label("身份证号码后六位").fill("31002x")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_text(application.get_status_display()).first).to_be_visible()
    page.screenshot(path=screenshot_dir / "phone-relief-status.png", full_page=True)
    assert "司马示例" not in page.content()  # the answer names the application, never the person in full
