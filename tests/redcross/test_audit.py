"""Every create, change and delete of a domain row is recorded: who, when, before and after."""

import pytest
from django.urls import reverse

from redcross.audit import audit_context
from redcross.models import Branch, User
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def test_admin_change_is_recorded_with_user_and_diff(client, branch_tree):
    admin_user = StaffFactory(branch=branch_tree["city"], is_superuser=True)
    client.force_login(admin_user)
    east = branch_tree["east"]
    response = client.post(
        reverse("admin:redcross_branch_change", args=[east.pk]),
        {
            "name": east.name,
            "code": east.code,
            "level": east.level,
            "parent": east.parent_id,
            "sort_order": 0,
            "phone": "0571-86002001",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    latest, previous = east.history.all()[:2]
    assert latest.history_type == "~"
    assert latest.history_user == admin_user
    assert latest.history_date is not None
    delta = latest.diff_against(previous)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [("phone", "", "0571-86002001")]


def test_history_is_visible_per_object_in_the_admin(client, branch_tree):
    admin_user = StaffFactory(branch=branch_tree["city"], is_superuser=True)
    client.force_login(admin_user)
    east = branch_tree["east"]
    east.phone = "0571-86009999"
    with audit_context(user=admin_user, reason="电话更正"):
        east.save()
    page = client.get(reverse("admin:redcross_branch_history", args=[east.pk])).content.decode()
    assert "电话更正" in page
    assert "0571-86009999" in page  # the change itself is shown, not only that something changed


def test_service_and_task_writes_name_the_actor(branch_tree):
    clerk = StaffFactory(branch=branch_tree["city"])
    school = branch_tree["west_school"]
    with audit_context(user=clerk, reason="import"):
        school.address = "西区学府路 1 号"
        school.save()
    record = school.history.first()
    assert record.history_user == clerk
    assert record.history_change_reason == "import"
    # outside any context and request (a task run by the worker): recorded, without a user
    school.address = "西区学府路 2 号"
    school.save()
    assert school.history.first().history_user is None
    assert school.history.count() == 3


def test_create_and_delete_are_recorded(branch_tree):
    user = StaffFactory(branch=branch_tree["east"])
    user_pk = user.pk
    user.delete()
    types = list(User.history.filter(id=user_pk).values_list("history_type", flat=True))
    assert types == ["-", "+"]


def test_password_is_never_copied_into_history(branch_tree):
    user = StaffFactory(branch=branch_tree["east"])
    user.set_password("a-new-password-2026")
    user.save()
    assert not hasattr(User.history.model, "password")


def test_api_change_is_recorded(client, branch_tree, city_staff):
    client.force_login(city_staff)
    east = branch_tree["east"]
    response = client.patch(f"/api/branches/{east.pk}/", {"address": "东区新址"}, content_type="application/json")
    assert response.status_code == 200, response.content
    record = Branch.history.filter(id=east.pk).first()
    assert record.history_user == city_staff
    assert record.address == "东区新址"
