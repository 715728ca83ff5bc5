"""The relief sections of the monthly and annual reports (issue 15 item 7): projects by kind and
status and one by one (money in and out as the project's books count it, balance at the end of the
period), households and people helped by kind and by district, referral outcomes, and 博爱家园
shares and dividends; for a period, 本级 or 全市系统, in a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from relief.models import Aid, Project
from relief.services.aid import aid_disburse, livelihood_dividends_pay, livelihood_share_record
from relief.services.applications import application_referral_outcome
from relief.services.projects import project_open
from reports.periods import ReportPeriod
from reports.registry import registry
from reports.selectors import report_build
from tests.relief.conftest import apply, approved, cn_id, fund, make_project, register
from tests.reports.helpers import export_bytes, read_csv_zip, read_xlsx

pytestmark = pytest.mark.django_db

KEYS = (
    "relief_projects_by_kind",
    "relief_projects",
    "relief_helped_by_kind",
    "relief_helped_by_district",
    "relief_referrals",
    "relief_livelihood",
)


def _rows(key, period, branch, scope="system"):
    return list(registry.get(key).rows(period, branch, scope))


@pytest.fixture
def people(district_a, district_b, officer):
    return {"registrar": district_a, "reviewer": district_b, "decider": officer}


def _person(n: int) -> dict:
    return {"id_number": cn_id(f"1970{(n % 12) + 1:02d}15", 100 + n)}


@pytest.fixture
def month():
    return ReportPeriod.month_of(f"{timezone.localdate():%Y-%m}")


@pytest.fixture
def relief_year(officer, officer2, west_staff, city, east, clerk, finance, campaign, people, district_a, branch_tree):
    """A winter project (one household paid this month, one paid before this month, cash waiting
    for its signature), a medical project for persons, a referral project with outcomes and a
    livelihood village with shares and dividends; all run by the city, beneficiaries in the east."""
    today = timezone.localdate()
    before = today.replace(day=1) - timedelta(days=1)  # the last day of the month before
    winter = make_project(officer, city, starts_on=today - timedelta(days=70), budget="20000.00")
    fund(winter, "10000.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    project_open(by=officer, project=winter)
    paid, waiting, earlier = (
        approved(winter, register(district_a, east, name=name, **_person(n)).beneficiary, **people, amount=amount)
        for n, (name, amount) in enumerate((("王秀英", "300"), ("李春花", "200"), ("赵德明", "250")))
    )
    aid_disburse(by=district_a, application=paid, method="bank", voucher_number="V-1")
    aid_disburse(by=district_a, application=waiting, method="cash")  # not signed: out, but nobody helped yet
    aid_disburse(by=district_a, application=earlier, method="bank", voucher_number="V-0", disbursed_on=before)

    medical = make_project(officer, city, name="天使计划", kind="medical", unit="person", visit_required=False,
                           starts_on=today - timedelta(days=70))  # fmt: skip
    fund(medical, "5000.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    project_open(by=officer, project=medical)
    child = register(officer2, branch_tree["west"], kind="person", name="孙小雨", **_person(9)).beneficiary
    application = approved(medical, child, registrar=officer2, reviewer=west_staff, decider=officer, amount="1000")
    aid_disburse(by=officer, application=application, method="bank", voucher_number="V-2")

    referral = make_project(officer, city, name="小天使基金协助", kind="medical", unit="person", is_referral=True,
                            referral_body="中国红十字基金会", visit_required=False)  # fmt: skip
    project_open(by=officer, project=referral)
    for n, outcome in enumerate(("granted", "declined", None)):
        applicant = register(district_a, east, kind="person", name="患儿" + "甲乙丙"[n], **_person(20 + n)).beneficiary
        forwarded = approved(referral, applicant, **people)
        if outcome:
            application_referral_outcome(by=officer, application=forwarded, outcome=outcome,
                                         amount="30000.00" if outcome == "granted" else None)  # fmt: skip
    apply(district_a, referral, register(district_a, east, kind="person", name="患儿丁", **_person(30)).beneficiary)

    village = make_project(officer, city, name="博爱家园", kind="livelihood", visit_required=False,
                           starts_on=today - timedelta(days=70))  # fmt: skip
    fund(village, "3000.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    project_open(by=officer, project=village)
    for n, shares in enumerate((2, 3)):
        household = register(district_a, east, name="村民" + "甲乙"[n], **_person(40 + n)).beneficiary
        approved(village, household, **people, amount="100")
        livelihood_share_record(by=officer, project=village, beneficiary=household, year=today.year, shares=shares)
    livelihood_dividends_pay(by=officer, project=village, year=today.year, total="500.00", voucher_number="V-DIV")
    return {"winter": winter, "medical": medical, "referral": referral, "village": village}


def test_the_sections_are_registered_after_the_other_apps(relief_year):
    keys = [section.key for section in registry.sections()]
    assert [key for key in keys if key.startswith("relief_")] == list(KEYS)
    assert keys.index("training_by_kind") < keys.index("relief_projects_by_kind")


def test_projects_by_kind_and_one_by_one_follow_the_books_for_the_period(relief_year, month, city):
    by_kind = {(row["kind"], row["status"]): row for row in _rows("relief_projects_by_kind", month, city)}
    assert set(by_kind) == {("winter", "open"), ("medical", "open"), ("livelihood", "open")}  # referral: own table
    winter = by_kind[("winter", "open")]
    assert (winter["projects"], winter["budget"], winter["funds_in_cash"]) == (1, Decimal("20000.00"), Decimal("10000"))
    # this month: 300 by bank and 200 in cash awaiting its signature (the books count it); 250 went last month
    assert (winter["paid_out"], winter["goods_out"]) == (Decimal("500.00"), Decimal("0.00"))
    assert (
        winter["balance"] == Decimal("9250.00") == Project.objects.get(pk=relief_year["winter"].pk).balance
    )  # up to the end of the period
    one = {row["code"]: row for row in _rows("relief_projects", month, city)}
    row = one[relief_year["winter"].code]
    assert (row["households"], row["persons"], row["given_out"]) == (1, None, Decimal("500.00"))
    assert one[relief_year["medical"].code]["persons"] == 1
    village = one[relief_year["village"].code]
    assert (village["households"], village["paid_out"], village["balance"]) == (2, Decimal("500.00"), Decimal("2500"))
    assert relief_year["referral"].code not in one


def test_last_month_sees_what_went_out_then_and_a_balance_as_it_stood(relief_year, month, city):
    last = ReportPeriod.last_month(timezone.localdate())
    rows = {row["code"]: row for row in _rows("relief_projects", last, city)}
    winter = rows[relief_year["winter"].code]
    # the funding was confirmed this month: last month it had paid 250 out of nothing yet counted
    assert (winter["households"], winter["paid_out"], winter["funds_in_cash"]) == (1, Decimal("250.00"), 0)
    assert winter["balance"] == Decimal("-250.00")
    assert winter["status_label"] == "筹备中"  # the status at the end of that month: it was opened this month


def test_households_and_people_helped_by_kind_and_by_district(relief_year, month, city, branch_tree):
    by_kind = {row["kind"]: row for row in _rows("relief_helped_by_kind", month, city)}
    assert (by_kind["winter"]["households"], by_kind["winter"]["count"], by_kind["winter"]["cash"]) == (
        1, 1, Decimal("300.00"))  # fmt: skip
    assert (by_kind["medical"]["persons"], by_kind["medical"]["households"]) == (1, 0)
    assert (by_kind["livelihood"]["households"], by_kind["livelihood"]["total"]) == (2, Decimal("500.00"))
    by_district = {row["district"]: row for row in _rows("relief_helped_by_district", month, city)}
    east, west = branch_tree["east"].name, branch_tree["west"].name
    assert (by_district[east]["households"], by_district[east]["persons"], by_district[east]["count"]) == (3, 0, 3)
    assert (by_district[west]["persons"], by_district[west]["total"]) == (1, Decimal("1000.00"))


def test_referral_outcomes_in_the_period(relief_year, month, city):
    (row,) = _rows("relief_referrals", month, city)
    assert row["project"] == "小天使基金协助" and row["referral_body"] == "中国红十字基金会"
    assert [row[k] for k in ("received", "forwarded", "granted", "declined", "pending")] == [4, 3, 1, 1, 1]
    assert row["granted_amount"] == Decimal("30000.00")
    # an outcome recorded after the end of a period is still pending in it
    from relief.models import Application

    Application.objects.filter(referral_outcome="granted").update(
        referral_outcome_at=timezone.now() + timedelta(days=40)
    )
    (row,) = _rows("relief_referrals", month, city)
    assert (row["granted"], row["pending"], row["granted_amount"]) == (0, 2, 0)


def test_livelihood_shares_and_dividends_per_year(relief_year, month, city):
    (row,) = _rows("relief_livelihood", month, city)
    assert row["year"] == str(timezone.localdate().year)
    assert (row["shareholders"], row["shares"], row["dividend_households"], row["dividends"]) == (
        2, Decimal("5"), 2, Decimal("500.00"))  # fmt: skip


def test_scope_own_and_system_follow_the_projects_branch(relief_year, month, city, east, branch_tree):
    for key in KEYS:
        assert _rows(key, month, east, "system") == [], key  # the city's projects are not the district's
        assert _rows(key, month, city, "own") == _rows(key, month, city, "system"), key


def test_a_district_project_counts_in_its_own_report_and_the_citys_system(
    relief_year, month, city, east, officer, clerk, finance, people, district_a
):
    from tests.donations.factories import CampaignFactory

    project = make_project(officer, east, name="东区暖冬", starts_on=timezone.localdate() - timedelta(days=5))
    fund(project, "1000.00", clerk=clerk, finance=finance, by=officer,
         campaign=CampaignFactory(branch=east, name="东区募捐", slug="east-warmth"))  # fmt: skip
    project_open(by=officer, project=project)
    household = register(district_a, east, name="钱大妈", **_person(60)).beneficiary
    aid_disburse(by=district_a, application=approved(project, household, **people, amount="100"), method="bank",
                 voucher_number="V-E")  # fmt: skip
    assert [row["code"] for row in _rows("relief_projects", month, east, "own")] == [project.code]
    assert project.code in {row["code"] for row in _rows("relief_projects", month, city, "system")}
    assert project.code not in {row["code"] for row in _rows("relief_projects", month, city, "own")}


def _count_queries(period, branch) -> int:
    with CaptureQueriesContext(connection) as queries:
        report = report_build(period=period, branch=branch, scope="system",
                              sections=[registry.get(key) for key in KEYS])  # fmt: skip
        for result in report.sections:
            result.rows  # noqa: B018 (runs the selector)
    return len(queries)


def test_the_sections_read_a_fixed_number_of_queries(
    relief_year, month, city, officer, people, district_a, east, clerk, finance, campaign
):
    before = _count_queries(month, city)
    assert before <= 10
    # more projects, beneficiaries and disbursements: the same number of queries
    for n in range(2):
        project = make_project(officer, city, name=f"加项{n}", starts_on=timezone.localdate() - timedelta(days=5))
        fund(project, "500.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
        project_open(by=officer, project=project)
        household = register(district_a, east, name="加户" + "甲乙"[n], **_person(70 + n)).beneficiary
        aid_disburse(by=district_a, application=approved(project, household, **people, amount="100"), method="bank",
                     voucher_number=f"V-X{n}")  # fmt: skip
    assert Aid.objects.count() == 8
    assert _count_queries(month, city) == before


def test_the_monthly_and_annual_reports_carry_the_relief_tables(relief_year, month, city):
    report = report_build(period=month, branch=city, scope="system")
    sheets = read_xlsx(export_bytes(report, "xlsx"))
    title = report.section("relief_projects").title
    table = sheets[title]
    header = next(row for row in table if row and "期末结余（元）" in [str(cell) for cell in row])
    body = [row for row in table[table.index(header) + 1 :] if row and str(row[0]).startswith("测试博爱送温暖")]
    assert body and body[0][header.index("期内发放合计（元）")] == 500
    names = list(read_csv_zip(export_bytes(report, "csv")))
    assert any(name.endswith("relief_referrals.csv") for name in names)
    annual = report_build(period=ReportPeriod.year_of(timezone.localdate().year), branch=city, scope="system")
    sheets = read_xlsx(export_bytes(annual, "xlsx"))
    header = next(row for row in sheets[annual.section("relief_livelihood").title] if row and "分红金额（元）" in row)
    assert "上年分红金额（元）" in header
    # nothing of a beneficiary in any of them
    everything = repr(sheets) + repr(read_xlsx(export_bytes(report, "xlsx")))
    for secret in ("王秀英", "李春花", "孙小雨", "患儿甲", "村民乙", cn_id("19700115", 100)):
        assert secret not in everything
