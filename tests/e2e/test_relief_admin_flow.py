"""A relief officer's week in a real browser: a district officer registers a household in the
admin, a colleague reviews it, the city officer approves it and pays it by bank transfer, and the
public project page counts the household helped (a number, never a name)."""

import pytest
from playwright.sync_api import expect

from tests.e2e.test_donation_flow import login
from tests.factories import StaffFactory
from tests.relief.conftest import cn_id, fund, make_project

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def act_on(page, number: str, action: str, reason: str, submit: str) -> None:
    """Tick one application on the list, choose the action, give the reason on the next page."""
    page.goto(page.url.split("/admin/")[0] + "/admin/relief/application/")
    page.get_by_role("row").filter(has_text=number).get_by_role("checkbox").check()
    page.locator("select[name=action]").select_option(action)
    page.get_by_role("button", name="执行").click()
    page.get_by_label("原因").fill(reason)
    page.get_by_role("button", name=submit).click()


def test_register_review_decide_disburse_and_count_on_the_public_page(page, live_server, branch_tree,
                                                                      screenshot_dir):  # fmt: skip
    from relief.models import Aid, Application
    from relief.services.projects import project_open
    from tests.donations.factories import CampaignFactory

    city, east = branch_tree["city"], branch_tree["east"]
    officer = StaffFactory(username="e2e-officer", branch=city, roles=["relief_officer"])
    StaffFactory(username="e2e-east-a", branch=east, roles=["district_staff"], last_name="郑", first_name="海燕")
    StaffFactory(username="e2e-east-b", branch=east, roles=["district_staff"], last_name="冯", first_name="国强")
    clerk = StaffFactory(branch=city, roles=["donation_clerk"])
    finance = StaffFactory(branch=city, roles=["finance_reviewer"])
    campaign = CampaignFactory(branch=city, name="博爱送温暖募捐", slug="e2e-warmth")
    project = make_project(officer, city, name="博爱送温暖", cap_per_project="500.00")
    fund(project, "10000.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    project = project_open(by=officer, project=project)

    login(page, live_server, "e2e-east-a")
    page.goto(f"{live_server.url}/admin/relief/application/add/?project={project.pk}")
    page.get_by_label("所在区县组织").select_option(str(east.pk))
    page.get_by_label("姓名（户主）").fill("王秀英")
    page.get_by_label("身份证号码", exact=True).first.fill(cn_id("19680305", 12))
    page.get_by_label("联系电话").fill("13912340001")
    page.get_by_label("申请理由和困难情况").fill("独居老人，冬季缺少取暖物资")
    page.get_by_label("申请金额（元）").fill("300")
    page.locator("input[name=members-0-name]").fill("李建国")
    page.locator("input[name=members-0-relation]").fill("配偶")
    page.screenshot(path=screenshot_dir / "relief-register.png", full_page=True)
    page.get_by_role("button", name="登记").click()
    expect(page.locator(".messagelist")).to_contain_text("已登记救助申请")
    application = Application.objects.get()
    assert application.beneficiary.members.count() == 1

    page.context.clear_cookies()
    login(page, live_server, "e2e-east-b")
    act_on(page, application.number, "review_pass", "入户核实，情况属实", "确认初审通过")
    expect(page.locator(".messagelist")).to_contain_text("已初审通过 1 份")

    page.context.clear_cookies()
    login(page, live_server, "e2e-officer")
    act_on(page, application.number, "decide_approve", "符合救助条件", "确认批准")
    expect(page.locator(".messagelist")).to_contain_text("已批准 1 份")
    page.goto(f"{live_server.url}/admin/relief/application/{application.pk}/change/")
    page.get_by_role("link", name="发放救助").click()
    page.get_by_label("银行转账").check()
    page.get_by_label("转账凭证号").fill("ZZ2026-0001")
    page.screenshot(path=screenshot_dir / "relief-disburse.png", full_page=True)
    page.get_by_role("button", name="发放").click()
    expect(page.locator(".messagelist")).to_contain_text("已登记发放")
    assert Aid.objects.get().status == "paid"

    page.context.clear_cookies()
    page.goto(f"{live_server.url}/relief/projects/{project.pk}/")
    expect(page.locator("#helped tfoot [data-helped]")).to_have_text("1")
    expect(page.get_by_text("王秀英")).to_have_count(0)
