"""A district user can neither see nor change another district's rows: admin and API."""

import pytest
from django.urls import reverse

from redcross.models import Branch, BranchLevel, GrassrootsKind
from redcross.scoping import can_access_branch, scope_queryset, visible_branch_ids
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def _ids(*branches):
    return {branch.pk for branch in branches}


def test_visible_branches_by_role(branch_tree, city_staff, east_staff):
    t = branch_tree
    assert visible_branch_ids(city_staff) is None  # city staff see everything
    assert visible_branch_ids(east_staff) == _ids(t["east"], t["east_school"])
    school_staff = StaffFactory(branch=t["east_school"])
    assert visible_branch_ids(school_staff) == _ids(t["east_school"])
    no_branch = StaffFactory(branch=None)
    assert visible_branch_ids(no_branch) == frozenset()
    assert visible_branch_ids(StaffFactory(branch=None, is_superuser=True)) is None


def test_scope_queryset_and_access_checks(branch_tree, east_staff):
    t = branch_tree
    scoped = scope_queryset(Branch.objects.all(), east_staff, branch_field="id")
    assert set(scoped) == {t["east"], t["east_school"]}
    assert can_access_branch(east_staff, t["east_school"])
    assert not can_access_branch(east_staff, t["west"].pk)
    assert not can_access_branch(east_staff, None)  # "no branch" rows are city-level


# --- admin -------------------------------------------------------------------


def test_admin_changelist_shows_only_own_subtree(client, branch_tree, east_staff):
    client.force_login(east_staff)
    response = client.get(reverse("admin:redcross_branch_changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "东区一中红十字会" in page
    assert "测试市西区红十字会" not in page
    assert "西区一中红十字会" not in page


def test_admin_cannot_open_or_change_another_districts_row(client, branch_tree, east_staff):
    west = branch_tree["west"]
    client.force_login(east_staff)
    url = reverse("admin:redcross_branch_change", args=[west.pk])
    response = client.get(url)
    assert response.status_code == 302  # the admin's "does not exist" redirect
    response = client.post(
        url, {"name": "被篡改", "code": west.code, "level": west.level, "parent": west.parent_id, "sort_order": 0}
    )
    assert response.status_code == 302
    west.refresh_from_db()
    assert west.name == "测试市西区红十字会"


def test_admin_history_of_another_districts_row_is_refused(client, branch_tree, east_staff):
    client.force_login(east_staff)
    own = client.get(reverse("admin:redcross_branch_history", args=[branch_tree["east_school"].pk]))
    assert own.status_code == 200
    other = client.get(reverse("admin:redcross_branch_history", args=[branch_tree["west_school"].pk]))
    assert other.status_code in (403, 404)


def test_admin_branch_choices_are_limited_and_enforced(client, branch_tree, east_staff):
    client.force_login(east_staff)
    add_url = reverse("admin:redcross_branch_add")
    form = client.get(add_url).content.decode()
    assert "测试市西区红十字会" not in form
    # posting a parent outside the subtree anyway is refused by the form
    response = client.post(
        add_url,
        {
            "name": "越权新建",
            "code": "EVIL",
            "level": BranchLevel.GRASSROOTS,
            "grassroots_kind": GrassrootsKind.SCHOOL,
            "parent": branch_tree["west"].pk,
            "sort_order": 0,
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "parent" in response.context["adminform"].form.errors
    assert not Branch.objects.filter(code="EVIL").exists()


def test_admin_district_user_can_add_grassroots_branch_in_own_subtree(client, branch_tree, east_staff):
    client.force_login(east_staff)
    response = client.post(
        reverse("admin:redcross_branch_add"),
        {
            "name": "东区春晖社区红十字会",
            "code": "CSEC",
            "level": BranchLevel.GRASSROOTS,
            "grassroots_kind": GrassrootsKind.COMMUNITY,
            "parent": branch_tree["east"].pk,
            "sort_order": 0,
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    created = Branch.objects.get(code="CSEC")
    assert created.path.startswith(branch_tree["east"].path)
    assert created.history.get().history_user == east_staff


def test_admin_district_user_cannot_move_own_branch(client, branch_tree, east_staff):
    client.force_login(east_staff)
    response = client.get(reverse("admin:redcross_branch_change", args=[branch_tree["east"].pk]))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "parent" not in form.fields and "code" not in form.fields


# --- API ------------------------------------------------------------------------


def test_api_lists_only_own_subtree(client, branch_tree, east_staff):
    client.force_login(east_staff)
    response = client.get("/api/branches/")
    assert response.status_code == 200
    names = {row["name"] for row in response.json()["results"]}
    assert names == {"测试市东区红十字会", "东区一中红十字会"}


def test_api_cannot_read_or_change_another_districts_row(client, branch_tree, east_staff):
    west = branch_tree["west"]
    client.force_login(east_staff)
    assert client.get(f"/api/branches/{west.pk}/").status_code == 404
    response = client.patch(f"/api/branches/{west.pk}/", {"name": "被篡改"}, content_type="application/json")
    assert response.status_code == 404
    west.refresh_from_db()
    assert west.name == "测试市西区红十字会"


def test_api_cannot_create_under_another_district(client, branch_tree, east_staff):
    client.force_login(east_staff)
    payload = {
        "name": "越权新建",
        "code": "EVIL",
        "level": "grassroots",
        "grassroots_kind": "school",
        "parent": branch_tree["west"].pk,
    }
    response = client.post("/api/branches/", payload, content_type="application/json")
    assert response.status_code == 400
    assert "parent" in response.json()
    assert not Branch.objects.filter(code="EVIL").exists()


def test_api_city_staff_see_all(client, branch_tree, city_staff):
    client.force_login(city_staff)
    response = client.get("/api/branches/")
    assert {row["id"] for row in response.json()["results"]} == {b.pk for b in branch_tree.values()}


def test_api_refuses_anonymous_and_non_staff(client, branch_tree):
    assert client.get("/api/branches/").status_code in (401, 403)
    outsider = StaffFactory(is_staff=False, branch=branch_tree["city"], roles=["district_staff"])
    client.force_login(outsider)
    assert client.get("/api/branches/").status_code == 403


def test_api_needs_view_permission(client, branch_tree):
    staff_without_role = StaffFactory(branch=branch_tree["city"])
    client.force_login(staff_without_role)
    assert client.get("/api/branches/").status_code == 403


def test_api_token_auth(client, branch_tree, east_staff):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=east_staff)
    response = client.get("/api/branches/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 2


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"name": "x" * 500, "code": "OKAY", "level": "grassroots", "grassroots_kind": "school"},
        {"name": "<script>alert(1)</script>", "code": "<b>", "level": "county"},
        {"name": 12, "code": ["A"], "level": "planet"},
    ],
)
def test_api_bad_input_names_the_field_and_writes_nothing(client, branch_tree, east_staff, payload):
    client.force_login(east_staff)
    before = Branch.objects.count()
    response = client.post("/api/branches/", payload, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) & {"name", "code", "level", "parent", "grassroots_kind"}
    assert Branch.objects.count() == before
