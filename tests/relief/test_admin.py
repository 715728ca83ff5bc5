"""The relief admin: branch-scoped lists with a fixed number of queries, writes through services."""

import pytest
from django.urls import reverse

from relief.models import Project, ProjectStatus
from tests.relief.conftest import fund, make_project

pytestmark = pytest.mark.django_db


def test_project_list_is_branch_scoped_and_costs_a_fixed_number_of_queries(
    client, officer, district_a, city, east, django_assert_max_num_queries
):
    for index in range(5):
        make_project(officer, city, name=f"市级项目{index}")
    make_project(district_a, east, name="东区项目")
    client.force_login(district_a)
    response = client.get(reverse("admin:relief_project_changelist"))
    assert response.status_code == 200
    assert "东区项目" in response.text and "市级项目" not in response.text
    client.force_login(officer)
    client.get(reverse("admin:relief_project_changelist"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:relief_project_changelist"))
    assert all(f"市级项目{index}" in response.text for index in range(5))


def test_project_is_added_through_the_service_and_closed_by_its_button(client, officer, city, clerk, finance, campaign):
    client.force_login(officer)
    response = client.post(
        reverse("admin:relief_project_add"),
        {"branch": city.pk, "kind": "winter", "unit": "household", "name": "暖冬行动", "purpose": "送棉被",
         "starts_on": "2026-01-01", "ends_on": "2026-03-31", "cap_per_project": "300"},
    )  # fmt: skip
    assert response.status_code == 302, __import__("re").findall(r"errorlist.{0,300}", response.text)
    project = Project.objects.get(name="暖冬行动")
    assert project.recipient is not None and project.code
    response = client.post(
        reverse("admin:relief_project_add"),
        {"branch": city.pk, "kind": "winter", "unit": "household", "name": "错的", "purpose": "x",
         "starts_on": "2026-03-01", "ends_on": "2026-01-01"},
    )  # fmt: skip
    assert response.status_code == 200 and "结束日期不能早于开始日期" in response.text
    fund(project, "100.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    client.post(reverse("admin:relief_project_changelist"),
                {"action": "open_projects", "_selected_action": [project.pk]})  # fmt: skip
    project.refresh_from_db()
    assert project.status == ProjectStatus.OPEN
    page = client.get(reverse("admin:relief_project_change", args=[project.pk]))
    assert "结项并保存决算" in page.text
    client.post(reverse("admin:relief_project_close", args=[project.pk]), {"note": ""})
    project.refresh_from_db()
    assert project.status == ProjectStatus.OPEN  # the balance was not explained
    client.post(reverse("admin:relief_project_close", args=[project.pk]), {"note": "结余退回分配方案"})
    project.refresh_from_db()
    assert project.status == ProjectStatus.CLOSED


def test_district_staff_cannot_open_another_districts_project(client, officer, west_staff, city, east, district_a):
    project = make_project(district_a, east, name="东区项目")
    client.force_login(west_staff)
    response = client.get(reverse("admin:relief_project_change", args=[project.pk]))
    assert response.status_code in (302, 403, 404)


def test_the_review_queue_and_its_actions(client, district_a, district_b, officer, funded_project, east,
                                          django_assert_max_num_queries):  # fmt: skip
    from relief.models import Application
    from tests.relief.conftest import apply, pdf, register

    for index in range(4):
        beneficiary = register(district_a, east, name="测试户" + "甲乙丙丁"[index]).beneficiary
        apply(district_a, funded_project, beneficiary, documents=[("income", pdf())])
    url = reverse("admin:relief_application_changelist")
    client.force_login(district_b)
    client.get(url, {"queue": "review"})
    with django_assert_max_num_queries(14):
        page = client.get(url, {"queue": "review"})
    assert page.status_code == 200 and page.text.count("SQ") >= 4
    ids = list(Application.objects.values_list("pk", flat=True))
    client.post(url, {"action": "review_pass", "_selected_action": ids, "apply": "1", "reason": "属实"})
    assert set(Application.objects.values_list("status", flat=True)) == {"reviewed"}
    client.force_login(district_a)  # the registrar: refused row by row, nothing changes
    client.post(url, {"action": "decide_approve", "_selected_action": ids, "apply": "1", "reason": "同意"})
    assert set(Application.objects.values_list("status", flat=True)) == {"reviewed"}
    client.force_login(officer)
    client.post(url, {"action": "decide_approve", "_selected_action": ids, "apply": "1", "reason": "同意"})
    assert set(Application.objects.values_list("status", flat=True)) == {"approved"}
    application = Application.objects.first()
    page = client.get(reverse("admin:relief_application_change", args=[application.pk])).text
    assert "家庭困难" in page  # the situation, for relief roles
    document = application.documents.get()
    download = client.get(reverse("admin:relief_applicationdocument_file", args=[document.pk, "file"]))
    assert download.status_code == 200


def test_cash_is_signed_in_the_admin_by_a_second_person(client, district_a, district_b, officer, funded_project,
                                                        east, django_assert_max_num_queries):  # fmt: skip
    from relief.models import Aid
    from relief.services.aid import aid_disburse
    from tests.relief.conftest import approved, register

    application = approved(funded_project, register(district_a, east).beneficiary, registrar=district_a,
                           reviewer=district_b, decider=officer, amount="100")  # fmt: skip
    aid = aid_disburse(by=district_a, application=application, method="cash")
    url = reverse("admin:relief_aid_changelist")
    client.force_login(district_a)
    with django_assert_max_num_queries(12):
        assert client.get(url, {"queue": "sign"}).status_code == 200
    client.post(url, {"action": "confirm_cash", "_selected_action": [aid.pk]})
    assert Aid.objects.get().status == "registered"  # the registrar's own signature is refused
    client.force_login(district_b)
    client.post(url, {"action": "confirm_cash", "_selected_action": [aid.pk]})
    assert Aid.objects.get().status == "paid"
