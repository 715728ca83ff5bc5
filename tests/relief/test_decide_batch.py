"""The city's decision on many applications at once (``application_decide_batch``, the admin's 批准 /
不予批准 actions): the rules of ``application_decide`` on each, refusals listed, the rest decided in
one transaction with their history, a constant number of queries however many are chosen."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from relief.models import Application, ApplicationStatus
from relief.services.applications import application_decide_batch, application_review
from tests.relief.conftest import apply, cn_id, register

pytestmark = pytest.mark.django_db


def _reviewed(registrar, reviewer, project, branch, count, *, start=0, requested=None):
    rows = []
    for index in range(start, start + count):
        name = "测试户" + "甲乙丙丁戊己庚辛壬癸"[index % 10] + "一二三四五六七八九十"[index // 10]
        beneficiary = register(registrar, branch, name=name, id_number=cn_id("19700101", index + 1)).beneficiary
        application = apply(registrar, project, beneficiary, requested_amount=requested)
        rows.append(application_review(by=reviewer, application=application, passed=True, reason="情况属实"))
    return rows


def test_the_batch_decides_each_by_the_rules_and_lists_the_refused(
    district_a, district_b, officer, relief_reviewer, funded_project, east
):
    good = _reviewed(district_a, district_b, funded_project, east, 3, requested="200")
    capped = _reviewed(district_a, district_b, funded_project, east, 1, start=3)[0]  # no amount asked: the cap
    waiting = apply(district_a, funded_project, register(district_a, east, name="未初审户").beneficiary)
    # the same phone as a registered household: an open suspicion blocks its approval
    twin = register(district_a, east, name="疑似重复户", phone="13900000001")
    register(district_a, east, name="先登记户", phone="13900000001")
    suspected = apply(district_a, funded_project, twin.beneficiary)
    application_review(by=district_b, application=suspected, passed=True, reason="情况属实")
    # registered by the decider himself: refused (three different people)
    own = apply(officer, funded_project, register(officer, east, name="自登记户").beneficiary)
    application_review(by=district_b, application=own, passed=True, reason="情况属实")

    chosen = [*good, capped, waiting, suspected, own]
    result = application_decide_batch(by=officer, applications=chosen, approve=True, reason="符合条件")

    assert result.done == 4
    assert set(result.refused) == {waiting.number, suspected.number, own.number}
    assert "不能审批" in result.refused[waiting.number] and "疑似重复" in result.refused[suspected.number]
    assert "不同的工作人员" in result.refused[own.number]
    for application in good:
        application.refresh_from_db()
        assert application.status == ApplicationStatus.APPROVED and application.approved_amount == Decimal("200.00")
        assert application.decided_by == officer and application.decision_reason == "符合条件"
        latest = application.history.first()
        assert latest.status == "approved" and latest.history_user == officer
        assert latest.history_change_reason == "relief_application_decide"
        assert latest.history_type == "~"  # a change of the application, not its creation
    capped.refresh_from_db()
    assert capped.approved_amount == funded_project.cap_per_project
    for application, status in ((waiting, "submitted"), (suspected, "reviewed"), (own, "reviewed")):
        application.refresh_from_db()
        assert application.status == status and application.decided_by is None


def test_rejection_in_a_batch(district_a, district_b, officer, funded_project, east):
    rows = _reviewed(district_a, district_b, funded_project, east, 2)
    result = application_decide_batch(by=officer, applications=[a.pk for a in rows], approve=False, reason="收入超标")
    assert result.done == 2 and not result.refused
    assert set(Application.objects.values_list("status", flat=True)) == {"rejected"}
    assert set(Application.history.filter(status="rejected").values_list("history_user", flat=True)) == {officer.pk}


def test_without_permission_or_reason_nothing_is_decided(district_a, district_b, officer, funded_project, east):
    rows = _reviewed(district_a, district_b, funded_project, east, 2)
    with pytest.raises(PermissionDenied):
        application_decide_batch(by=district_b, applications=rows, approve=True, reason="同意")
    for reason in ("", " ", "x" * 501):
        with pytest.raises(ValidationError) as error:
            application_decide_batch(by=officer, applications=rows, approve=True, reason=reason)
        assert "reason" in error.value.message_dict
    assert set(Application.objects.values_list("status", flat=True)) == {"reviewed"}


def test_another_districts_applications_are_refused(district_a, district_b, west_staff, funded_project, east):
    from tests.factories import StaffFactory

    rows = _reviewed(district_a, district_b, funded_project, east, 1)
    west_decider = StaffFactory(branch=west_staff.branch, roles=["relief_officer"])
    result = application_decide_batch(by=west_decider, applications=rows, approve=True, reason="同意")
    assert result.done == 0 and rows[0].number in result.refused
    assert Application.objects.get().status == "reviewed"


def test_the_number_of_queries_does_not_grow_with_the_batch(district_a, district_b, officer, funded_project, east):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = _reviewed(district_a, district_b, funded_project, east, 2)
    more = _reviewed(district_a, district_b, funded_project, east, 6, start=2)
    officer.has_perm("relief.decide_application")  # the permission cache, as in a request
    with CaptureQueriesContext(connection) as small:
        application_decide_batch(by=officer, applications=first, approve=True, reason="同意")
    with CaptureQueriesContext(connection) as large:
        application_decide_batch(by=officer, applications=more, approve=True, reason="同意")
    # lock and read, open suspicions, one UPDATE (one decision, one amount), the history in bulk
    assert len(small) == len(large) <= 6, [q["sql"][:80] for q in large]
    assert Application.objects.filter(status="approved").count() == 8


def test_the_admin_approves_all_chosen_across_pages_with_one_confirmation(
    client, district_a, district_b, officer, funded_project, east
):
    rows = _reviewed(district_a, district_b, funded_project, east, 3)
    url = reverse("admin:relief_application_changelist") + f"?queue=decide&project__id__exact={funded_project.pk}"
    client.force_login(officer)
    chosen = {"action": "decide_approve", "select_across": "1", "_selected_action": [rows[0].pk]}
    page = client.post(url, {**chosen, "index": "0"})
    assert page.status_code == 200 and "以下 3 份申请" in page.text
    assert 'name="select_across" value="1"' in page.text
    assert page.text.count('name="_selected_action"') == 1  # not thousands of ids (the form field limit)
    response = client.post(url, {**chosen, "apply": "1", "reason": "同意"})
    assert response.status_code == 302
    assert set(Application.objects.values_list("status", flat=True)) == {"approved"}


def test_the_admin_lists_the_refused(client, district_a, district_b, funded_project, east, officer):
    rows = _reviewed(district_a, district_b, funded_project, east, 2)
    url = reverse("admin:relief_application_changelist")
    chosen = {"action": "decide_approve", "_selected_action": [a.pk for a in rows], "apply": "1", "reason": "同意"}
    client.force_login(district_b)  # the reviewer: no approval permission, nothing changes
    response = client.post(url, chosen, follow=True)
    assert "您没有审批救助申请的权限" in response.text
    Application.objects.filter(pk=rows[0].pk).update(registered_by=officer)
    client.force_login(officer)  # one registered by the officer himself: listed, the other approved
    response = client.post(url, chosen, follow=True)
    assert f"{rows[0].number}: " in response.text and "已批准 1 份" in response.text
    assert list(Application.objects.order_by("pk").values_list("status", flat=True)) == ["reviewed", "approved"]
