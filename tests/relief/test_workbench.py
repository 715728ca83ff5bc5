"""The relief lines on the staff workbench: each counts, within the user's branches, exactly the
rows its link's admin list shows."""

import pytest
from django.urls import reverse

from redcross.workbench import todo_items
from relief.services.aid import aid_disburse
from relief.services.applications import application_review
from tests.relief.conftest import apply, approved, cn_id, register

pytestmark = pytest.mark.django_db


def _lines(user) -> dict:
    return {item.line.key: item for item in todo_items(user) if item.line.key.startswith("relief.")}


def _listed(client, user, url) -> list:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_relief_lines_count_what_their_links_show(client, funded_project, district_a, district_b, officer,
                                                  relief_reviewer, west_staff, east):  # fmt: skip
    first = register(district_a, east, name="王秀英", id_number=cn_id("19600101", 1), phone="13912340001").beneficiary
    # the same phone under another name and ID number: a suspected duplicate
    second = register(district_a, east, name="王秀华", id_number=cn_id("19610101", 2), phone="13912340001")
    duplicate = second.suspected_duplicates[0]
    to_review = apply(district_a, funded_project, second.beneficiary)
    other = register(district_a, east, name="李春花", id_number=cn_id("19620101", 3)).beneficiary
    to_decide = apply(district_a, funded_project, other)
    application_review(by=district_b, application=to_decide, passed=True, reason="情况属实")
    assert first.pk != second.beneficiary.pk
    helped = register(district_a, east, name="赵德明", id_number=cn_id("19630101", 4)).beneficiary
    paid = approved(funded_project, helped, registrar=district_a, reviewer=district_b, decider=officer, amount="100")
    cash = aid_disburse(by=district_a, application=paid, method="cash")

    east_lines = _lines(district_a)
    assert east_lines["relief.applications_to_review"].count == 1
    assert east_lines["relief.aid_awaiting_signature"].count == 1
    assert "relief.applications_to_decide" not in east_lines  # the district does not decide
    assert "relief.duplicates_open" not in east_lines  # only the reviewer role settles duplicates
    assert _listed(client, district_a, east_lines["relief.applications_to_review"].url) == [to_review]
    assert _listed(client, district_a, east_lines["relief.aid_awaiting_signature"].url) == [cash]

    waiting = register(district_a, east, name="钱学军", id_number=cn_id("19640101", 5)).beneficiary
    to_pay = approved(funded_project, waiting, registrar=district_a, reviewer=district_b, decider=officer, amount="100")
    city_lines = _lines(officer)
    assert city_lines["relief.applications_to_disburse"].count == 1  # paid and cash-waiting ones are not
    assert _listed(client, officer, city_lines["relief.applications_to_disburse"].url) == [to_pay]
    assert _lines(district_a)["relief.applications_to_disburse"].count == 1
    assert _lines(west_staff)["relief.applications_to_disburse"].count == 0
    assert city_lines["relief.applications_to_decide"].count == 1
    assert _listed(client, officer, city_lines["relief.applications_to_decide"].url) == [to_decide]

    reviewer_lines = _lines(relief_reviewer)
    assert reviewer_lines["relief.duplicates_open"].count == 1 and reviewer_lines["relief.duplicates_open"].line.urgent
    assert _listed(client, relief_reviewer, reviewer_lines["relief.duplicates_open"].url) == [duplicate]

    # another district sees none of it
    west = _lines(west_staff)
    assert west["relief.applications_to_review"].count == 0 and west["relief.aid_awaiting_signature"].count == 0


def test_the_admin_front_page_shows_the_relief_group(client, officer):
    client.force_login(officer)
    page = client.get(reverse("admin:index")).content.decode()
    assert "待市级审批的救助申请" in page
