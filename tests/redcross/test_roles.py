import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from redcross.roles import ROLES, role_group_name, role_permissions, sync_roles
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

READ_ONLY_ROLES = ("leadership", "supervisors", "discipline_inspectors")


def test_every_role_has_its_group():
    names = set(Group.objects.values_list("name", flat=True))
    assert {role.name for role in ROLES} <= names
    assert len(ROLES) >= 13


@pytest.mark.parametrize("key", ["leadership", "supervisors"])
def test_read_only_roles_can_only_view(key):
    group = Group.objects.get(name=role_group_name(key))
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert "view_branch" in codenames
    # leadership may ask for a report to be generated (a ReportExport row); that changes no record
    allowed_writes = {"add_reportexport"} if key == "leadership" else set()
    assert all(code.startswith("view_") or code in allowed_writes for code in codenames), codenames


def test_discipline_inspectors_read_the_audit_trail():
    group = Group.objects.get(name=role_group_name("discipline_inspectors"))
    assert group.permissions.filter(codename="view_historicalbranch").exists()
    assert not group.permissions.exclude(codename__startswith="view_").exists()


def test_district_staff_cannot_delete_anything():
    group = Group.objects.get(name=role_group_name("district_staff"))
    assert not group.permissions.filter(codename__startswith="delete_").exists()
    assert group.permissions.filter(codename="add_branch").exists()


def test_sync_adds_missing_permissions_and_keeps_manual_grants():
    group = Group.objects.get(name=role_group_name("leadership"))
    view_branch = Permission.objects.get(codename="view_branch")
    manual = Permission.objects.get(codename="view_session", content_type__app_label="sessions")
    group.permissions.remove(view_branch)
    group.permissions.add(manual)
    sync_roles(Group, Permission)
    assert group.permissions.filter(pk=view_branch.pk).exists()
    assert group.permissions.filter(pk=manual.pk).exists()


def test_role_rules_match_by_app_and_pattern():
    role = next(r for r in ROLES if r.key == "donation_clerk")
    matched = {(p.content_type.app_label, p.codename) for p in role_permissions(role, Permission)}
    assert ("redcross", "view_branch") in matched
    assert ("redcross", "change_branch") not in matched


def test_leadership_reads_but_cannot_change_in_admin(client, branch_tree):
    leader = StaffFactory(branch=branch_tree["city"], roles=["leadership"])
    client.force_login(leader)
    east = branch_tree["east"]
    assert client.get(reverse("admin:redcross_branch_changelist")).status_code == 200
    change_page = client.get(reverse("admin:redcross_branch_change", args=[east.pk]))
    assert change_page.status_code == 200
    assert 'name="_save"' not in change_page.content.decode()
    response = client.post(
        reverse("admin:redcross_branch_change", args=[east.pk]),
        {"name": "领导改名", "code": east.code, "level": east.level, "parent": east.parent_id, "sort_order": 0},
    )
    assert response.status_code == 403
    east.refresh_from_db()
    assert east.name != "领导改名"
    assert client.get(reverse("admin:redcross_branch_add")).status_code == 403
