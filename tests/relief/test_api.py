"""The relief staff API (/api/relief/, issue 15 item 7): every write goes through the relief service
the admin calls, so its refusals come back as a 400 naming the field (or a 403 for the person
rules) with nothing written; district staff see and act only inside their branch subtree; a
beneficiary's ID number is only ever returned masked, and the contact and sensitive details only
to relief roles; lists read a fixed number of queries; the endpoints are in the OpenAPI schema."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from relief.models import (
    Aid,
    AidStatus,
    Application,
    ApplicationDocument,
    ApplicationStatus,
    Beneficiary,
    BeneficiaryDuplicate,
    DuplicateStatus,
    LivelihoodShare,
    Project,
    ProjectFunding,
    ProjectStatus,
    Visit,
)
from relief.services.applications import application_decide, application_review, visit_record
from relief.services.projects import project_open
from tests.factories import StaffFactory
from tests.relief.conftest import apply, approved, cn_id, directed_gift, fund, make_project, pdf, register

pytestmark = pytest.mark.django_db

API = "/api/relief/"
FORGED = b"MZ\x90\x00 not a pdf"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def leader(city):
    return StaffFactory(branch=city, roles=["leadership"])


@pytest.fixture
def people(district_a, district_b, officer):
    return {"registrar": district_a, "reviewer": district_b, "decider": officer}


def household(by, branch, index: int, **extra):
    name = "测试户" + "甲乙丙丁戊己庚辛壬癸"[index % 10] + "子丑寅卯辰巳午未申酉"[index // 10 % 10]
    return register(by, branch, name=name, id_number=cn_id("19700101", index + 1), **extra).beneficiary


def allocation_to(project, amount, *, clerk, finance, campaign):
    """A confirmed 拨付 to the project's recipient, not yet counted as the project's funds."""
    from donations.services.allocations import allocation_confirm, allocation_register_cash

    donation = directed_gift(clerk, finance, project, campaign, amount)
    allocation = allocation_register_cash(
        by=clerk, campaign=campaign, recipient=project.recipient, amount=Decimal(amount),
        allocated_on=timezone.localdate(), directed_donation=donation,
    )  # fmt: skip
    return allocation_confirm(allocation=allocation, by=finance)


def queries(client, url) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(context.captured_queries), response.json()


# --- who may do what ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["projects/", "beneficiaries/", "duplicates/", "applications/", "aid/", "livelihood-shares/"]
)
def test_anonymous_and_staff_without_a_relief_role_are_refused(branch_tree, path):
    assert APIClient().get(API + path).status_code in (401, 403)
    trainer = StaffFactory(branch=branch_tree["city"], roles=["training_officer"])
    assert client_for(trainer).get(API + path).status_code == 403


def test_read_only_roles_read_but_change_nothing(leader, funded_project, city):
    client = client_for(leader)
    assert client.get(API + "projects/").json()["results"][0]["id"] == funded_project.pk
    payload = {"branch": city.pk, "name": "领导登记", "kind": "winter", "purpose": "x", "starts_on": "2026-01-01",
               "ends_on": "2026-03-01"}  # fmt: skip
    assert client.post(API + "projects/", payload, format="json").status_code == 403
    response = client.post(f"{API}projects/{funded_project.pk}/close/", {"note": "结余退回"}, format="json")
    assert response.status_code == 403
    assert Project.objects.get(pk=funded_project.pk).status == ProjectStatus.OPEN


def test_another_districts_rows_are_not_found(district_a, west_staff, people, funded_project, east):
    beneficiary = household(district_a, east, 0)
    application = approved(funded_project, beneficiary, **people, amount="200")
    client = client_for(district_a)
    aid = client.post(API + "aid/", {"application": application.pk, "method": "cash"}, format="json").json()
    west = client_for(west_staff)
    for path in (f"beneficiaries/{beneficiary.pk}/", f"applications/{application.pk}/", f"aid/{aid['id']}/"):
        assert west.get(API + path).status_code == 404, path
    assert west.get(API + "applications/").json()["results"] == []
    assert west.post(f"{API}aid/{aid['id']}/confirm/").status_code == 404
    assert west.post(f"{API}applications/{application.pk}/visits/", {}, format="json").status_code == 404
    # nor can west name east's beneficiary in an application, or register one in east
    response = west.post(API + "applications/", {"project": funded_project.pk, "beneficiary": beneficiary.pk,
                                                  "situation": "困难"}, format="json")  # fmt: skip
    assert response.status_code == 400 and "beneficiary" in response.json()
    response = west.post(API + "beneficiaries/", {"branch": east.pk, "kind": "person", "name": "李四"}, format="json")
    assert response.status_code == 400 and "branch" in response.json()
    assert Aid.objects.get(pk=aid["id"]).status == AidStatus.REGISTERED


# --- projects ----------------------------------------------------------------------------------


def _project_payload(branch, **extra):
    today = timezone.localdate()
    return {
        "branch": branch.pk, "name": "博爱送温暖", "kind": "winter", "purpose": "为困难家庭送去过冬物资",
        "starts_on": (today - timedelta(days=10)).isoformat(), "ends_on": (today + timedelta(days=50)).isoformat(),
        "cap_per_project": "500.00", **extra,
    }  # fmt: skip


def test_a_project_from_registration_to_its_final_account(officer, city, clerk, finance, campaign):
    client = client_for(officer)
    response = client.post(API + "projects/", _project_payload(city), format="json")
    assert response.status_code == 201, response.content
    project = response.json()
    assert project["code"].startswith(f"{city.code}JZ") and project["status"] == "planned"
    assert project["recipient"] and project["visit_required"] is False
    url = f"{API}projects/{project['id']}/"
    response = client.patch(url, {"budget": "20000.00", "eligibility": "低保户"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["budget"] == "20000.00" and response.json()["name"] == "博爱送温暖"
    assert client.post(url + "open/").json()["status"] == "open"
    assert client.post(url + "open/").status_code == 400

    first = allocation_to(Project.objects.get(pk=project["id"]), "1000.00", clerk=clerk, finance=finance,
                          campaign=campaign)  # fmt: skip
    response = client.post(url + "fundings/", {"allocation": first.pk}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["value"] == "1000.00" and response.json()["allocation_serial"] == first.serial
    assert client.post(url + "fundings/", {"allocation": first.pk}, format="json").status_code == 400
    allocation_to(Project.objects.get(pk=project["id"]), "500.00", clerk=clerk, finance=finance, campaign=campaign)
    books = client.get(url + "books/").json()
    assert books["is_balanced"] is False and books["discrepancies"]  # an allocation not counted yet
    counted = client.post(url + "fundings/collect/").json()
    assert [row["value"] for row in counted] == ["500.00"]
    assert len(client.get(url + "fundings/").json()) == 2
    books = client.get(url + "books/").json()
    assert books["is_balanced"] is True and books["discrepancies"] == []
    assert (books["funds_in"], books["paid_out"], books["goods_out"], books["balance"]) == (
        "1500.00", "0.00", "0.00", "1500.00")  # fmt: skip

    response = client.post(url + "close/", {}, format="json")
    assert response.status_code == 400 and "note" in response.json()  # a balance left must be explained
    response = client.post(url + "close/", {"note": "结余 1500 元转入暖冬二期"}, format="json")
    assert response.status_code == 200, response.content
    closed = response.json()
    assert closed["status"] == "closed" and closed["final_account"]["balance"] == "1500.00"
    assert closed["final_account_note"] == "结余 1500 元转入暖冬二期"
    assert client.patch(url, {"name": "改名"}, format="json").status_code == 400
    assert client.get(url).json()["name"] == "博爱送温暖"


def test_a_full_update_replaces_the_editable_fields_and_refuses_the_fixed_ones(officer, city):
    project = make_project(officer, city, budget="1000.00")
    client = client_for(officer)
    url = f"{API}projects/{project.pk}/"
    payload = {key: value for key, value in _project_payload(city).items() if key not in ("branch", "kind")}
    payload.update(name="暖冬行动（二期）", budget=None, unit="person")  # unit is fixed: not an input, ignored
    response = client.put(url, payload, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["budget"], body["unit"], body["kind"]) == (
        "暖冬行动（二期）",
        None,
        "household",
        "winter",
    )
    response = client.put(url, {**payload, "ends_on": "2000-01-01"}, format="json")
    assert response.status_code == 400 and "ends_on" in response.json()
    assert Project.objects.get(pk=project.pk).name == "暖冬行动（二期）"


def test_project_list_filters(officer, city, east):
    today = timezone.localdate()
    winter = make_project(officer, city, name="暖冬")
    make_project(officer, city, name="助学", kind="student")
    last_year = today.replace(year=today.year - 1, day=1)
    make_project(officer, east, name="去年助困", kind="hardship", starts_on=last_year, ends_on=last_year)
    project_open(by=officer, project=winter)
    client = client_for(officer)

    def names(query):
        return sorted(row["name"] for row in client.get(f"{API}projects/?{query}").json()["results"])

    assert names("kind=winter") == ["暖冬"]
    assert names("status=open") == ["暖冬"]
    assert names(f"branch={east.pk}") == ["去年助困"]
    assert names(f"year={today.year - 1}") == ["去年助困"]
    assert names(f"year={today.year}") == ["助学", "暖冬"]
    assert client.get(f"{API}projects/?kind=karate").status_code == 400


@pytest.mark.parametrize(
    "change, field",
    [
        ({"kind": "karate"}, "kind"),
        ({"starts_on": "yesterday"}, "starts_on"),
        ({"ends_on": "2000-01-01"}, "ends_on"),
        ({"budget": "1e30"}, "budget"),
        ({"budget": "-5"}, "budget"),
        ({"cap_per_project": "一百"}, "cap_per_project"),
        ({"name": "<script>" * 100}, "name"),
        ({"purpose": ""}, "purpose"),
        ({"unit": "village"}, "unit"),
        ({"is_referral": True}, "referral_body"),
        ({"is_referral": True, "referral_body": "中国红十字基金会"}, "is_referral"),
    ],
)
def test_bad_project_input_names_the_field_and_writes_nothing(officer, city, change, field):
    response = client_for(officer).post(API + "projects/", _project_payload(city, **change), format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Project.objects.exists()


def test_a_funding_must_be_the_projects_own_confirmed_allocation(officer, city, clerk, finance, campaign):
    project = make_project(officer, city)
    other = make_project(officer, city, name="另一个项目")
    foreign = allocation_to(other, "300.00", clerk=clerk, finance=finance, campaign=campaign)
    client = client_for(officer)
    for allocation, expected in ((foreign.pk, "allocation"), ("abc", "allocation"), (10**30, "allocation"),
                                 (None, "allocation")):  # fmt: skip
        response = client.post(f"{API}projects/{project.pk}/fundings/", {"allocation": allocation}, format="json")
        assert response.status_code == 400 and expected in response.json(), allocation
    assert not ProjectFunding.objects.exists()
    project.refresh_from_db()
    assert project.funds_in_cash == 0


# --- beneficiaries and the duplicate queue -------------------------------------------------------


def test_register_finds_the_same_id_number_and_queues_a_suspected_duplicate(district_a, east):
    client = client_for(district_a)
    first_id = cn_id("19800101", 11)
    payload = {"branch": east.pk, "kind": "household", "name": "王秀英", "id_number": first_id,
               "phone": "13900001111", "illness": "慢性肾病", "members": [
                   {"name": "李小明", "relation": "子", "id_number": cn_id("20100101", 12)}]}  # fmt: skip
    response = client.post(API + "beneficiaries/", payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] is True and body["duplicate_review"] is False
    assert body["beneficiary"]["members"][0]["id_number_masked"].startswith("2") is False
    again = client.post(API + "beneficiaries/", {**payload, "members": []}, format="json")
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["beneficiary"]["id"] == body["beneficiary"]["id"]

    # another ID number on the same phone: registered, and queued for the reviewer
    same_phone = {"branch": east.pk, "kind": "person", "name": "王秀兰", "id_number": cn_id("19820202", 13),
                  "phone": "13900001111"}  # fmt: skip
    response = client.post(API + "beneficiaries/", same_phone, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["duplicate_review"] is True
    assert [row["reason"] for row in body["suspected_duplicates"]] == ["phone"]
    queue = client.get(API + "duplicates/").json()["results"]
    assert [row["beneficiary"] for row in queue] == [body["beneficiary"]["id"]]
    assert client.get(f"{API}beneficiaries/{body['beneficiary']['id']}/").json()["open_duplicate"] is True
    for content in (response.content, again.content):
        assert first_id.encode() not in content  # masked even for the district's own staff


@pytest.mark.parametrize(
    "change, field",
    [
        ({"id_number": "110105198001010010"}, "id_number"),  # wrong check digit
        ({"phone": "12345"}, "phone"),
        ({"name": "<script>alert(1)</script>"}, "name"),
        ({"name": "王" * 51}, "name"),
        ({"kind": "tribe"}, "kind"),
        ({"birth_date": "1990-13-01"}, "birth_date"),
        ({"birth_date": "1975-05-05"}, "birth_date"),  # disagrees with the ID number
        ({"illness": "x" * 2001}, "illness"),
        ({"members": [{"name": "李一", "relation": "子", "id_number": cn_id("20100101", 21)},
                      {"name": "李二", "relation": "子", "id_number": cn_id("20100101", 21)}]}, "members[1].id_number"),
        ({"members": [{"name": "自己", "relation": "本人", "id_number": cn_id("19800101", 20)}]},
         "members[0].id_number"),
        ({"members": [{"name": "李一"}]}, "members"),
        ({"members": "everyone"}, "members"),
    ],
)  # fmt: skip
def test_bad_beneficiary_input_names_the_field_and_writes_nothing(district_a, east, change, field):
    payload = {"branch": east.pk, "kind": "household", "name": "王秀英", "id_number": cn_id("19800101", 20),
               **change}  # fmt: skip
    response = client_for(district_a).post(API + "beneficiaries/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Beneficiary.objects.exists()


def test_a_member_of_another_household_is_refused(district_a, east):
    member_id = cn_id("20120101", 31)
    register(district_a, east, name="张家", id_number=cn_id("19700101", 30),
             members=[{"name": "张小", "relation": "子", "id_number": member_id}])  # fmt: skip
    payload = {"branch": east.pk, "kind": "household", "name": "赵家", "id_number": cn_id("19700101", 32),
               "members": [{"name": "张小", "relation": "子", "id_number": member_id}]}  # fmt: skip
    response = client_for(district_a).post(API + "beneficiaries/", payload, format="json")
    assert response.status_code == 400 and "members[0].id_number" in response.json()
    assert Beneficiary.objects.count() == 1


def test_details_are_masked_for_roles_without_the_relief_permission(district_a, officer, leader, east):
    id_number = cn_id("19660606", 41)
    beneficiary = register(district_a, east, name="欧阳娜娜", id_number=id_number, phone="13712345678",
                           address="东区幸福路 8 号", illness="白血病", income="月收入 800 元", disability="肢体二级",
                           members=[{"name": "欧阳小", "relation": "女", "id_number": cn_id("20150101", 42)}],
                           ).beneficiary  # fmt: skip
    url = f"{API}beneficiaries/{beneficiary.pk}/"
    for user in (officer, district_a):
        response = client_for(user).get(url)
        row = response.json()
        assert row["details_visible"] is True
        assert (row["phone"], row["illness"], row["income"]) == ("13712345678", "白血病", "月收入 800 元")
        assert row["id_number_masked"] and row["id_number_masked"] != id_number
        assert id_number.encode() not in response.content  # never the full ID number, not even to them
    for response in (client_for(leader).get(url), client_for(leader).get(API + "beneficiaries/")):
        row = response.json() if "results" not in response.json() else response.json()["results"][0]
        assert row["details_visible"] is False
        assert row["phone"] != "13712345678" and "*" in row["phone"]
        assert row["address"] is row["illness"] is row["income"] is row["disability"] is None
        for secret in (id_number, "13712345678", "幸福路", "白血病", "月收入", "肢体", cn_id("20150101", 42)):
            assert secret.encode() not in response.content, secret


def test_only_the_reviewer_settles_a_duplicate_with_a_reason(district_a, officer, relief_reviewer, east):
    register(district_a, east, name="刘一", id_number=cn_id("19700101", 51), phone="13800000001")
    second = register(district_a, east, name="刘一", phone="13800000001").beneficiary
    third = register(district_a, east, name="刘壹", id_number=cn_id("19700101", 53), phone="13800000001").beneficiary
    duplicate = BeneficiaryDuplicate.objects.get(beneficiary=second)
    url = f"{API}duplicates/{duplicate.pk}/"
    assert client_for(officer).post(url + "merge/", {"reason": "同一人"}, format="json").status_code == 403
    assert client_for(district_a).post(url + "clear/", {"reason": "不同人"}, format="json").status_code == 403
    reviewer = client_for(relief_reviewer)
    for reason in ({}, {"reason": ""}, {"reason": "x" * 501}):
        response = reviewer.post(url + "merge/", reason, format="json")
        assert response.status_code == 400 and "reason" in response.json()
    assert BeneficiaryDuplicate.objects.get(pk=duplicate.pk).status == DuplicateStatus.OPEN
    response = reviewer.post(url + "merge/", {"reason": "同一人，电话与户籍一致"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "merged" and response.json()["resolution_reason"] == "同一人，电话与户籍一致"
    assert Beneficiary.objects.get(pk=second.pk).merged_into_id == duplicate.candidate_id
    assert reviewer.post(url + "clear/", {"reason": "再来一次"}, format="json").status_code == 400
    other = BeneficiaryDuplicate.objects.filter(beneficiary=third, status=DuplicateStatus.OPEN).first()
    response = reviewer.post(f"{API}duplicates/{other.pk}/clear/", {"reason": "母子同用一个电话"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cleared"
    assert client_for(relief_reviewer).get(API + "duplicates/").json()["results"] == []
    assert len(reviewer.get(API + "duplicates/?status=cleared").json()["results"]) >= 1


# --- applications ----------------------------------------------------------------------------


def test_an_application_from_registration_to_the_city_decision(
    district_a, district_b, officer, funded_project, east, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    beneficiary = household(district_a, east, 0)
    registrar, reviewer, decider = client_for(district_a), client_for(district_b), client_for(officer)
    # the district names the city's open project (it cannot list the city's projects)
    assert registrar.get(f"{API}projects/{funded_project.pk}/").status_code == 404
    payload = {"project": funded_project.pk, "beneficiary": beneficiary.pk, "situation": "家中老人卧病，冬季无取暖",
               "requested_amount": "400.00"}  # fmt: skip
    response = registrar.post(API + "applications/", payload, format="json")
    assert response.status_code == 201, response.content
    application = response.json()
    assert application["status"] == "submitted" and application["number"].startswith(f"{funded_project.branch.code}SQ")
    url = f"{API}applications/{application['id']}/"

    response = registrar.post(url + "documents/", {"kind": "hardship", "file": pdf("困难证明.pdf")}, format="multipart")
    assert response.status_code == 201, response.content
    response = registrar.post(url + "documents/", {"kind": "hardship", "file": pdf("假.pdf", FORGED)},
                              format="multipart")  # fmt: skip
    assert response.status_code == 400 and "file" in str(response.json())
    assert ApplicationDocument.objects.count() == 1
    download = registrar.get(f"{url}documents/{response_id(registrar, url)}/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")
    # diagnoses and income proofs: relief roles only, not leadership who may read the application
    leadership = client_for(StaffFactory(branch=funded_project.branch, roles=["leadership"]))
    assert leadership.get(url).status_code == 200
    assert leadership.get(f"{url}documents/{response_id(registrar, url)}/").status_code == 403

    visit = {"kind": "assessment", "visited_on": timezone.localdate().isoformat(), "findings": "属实，房屋漏风"}
    assert registrar.post(url + "visits/", visit, format="json").status_code == 201

    # the registrar may not review their own registration; another district colleague may
    response = registrar.post(url + "review/", {"passed": True, "reason": "属实"}, format="json")
    assert response.status_code == 403 and "不同" in response.json()["detail"]
    response = reviewer.post(url + "review/", {"passed": True, "reason": "情况属实"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "reviewed"
    # the district may not decide; the city may, within the cap, and only once
    assert reviewer.post(url + "decide/", {"approve": True, "reason": "同意"}, format="json").status_code == 403
    response = decider.post(url + "decide/", {"approve": True, "reason": "同意", "approved_amount": "600"},
                            format="json")  # fmt: skip
    assert response.status_code == 400 and "approved_amount" in response.json()
    assert Application.objects.get(pk=application["id"]).status == ApplicationStatus.REVIEWED
    response = decider.post(url + "decide/", {"approve": True, "reason": "同意", "approved_amount": "300"},
                            format="json")  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["approved_amount"]) == ("approved", "300.00")
    assert [row["kind"] for row in body["visits"]] == ["assessment"] and len(body["documents"]) == 1
    response = decider.post(url + "decide/", {"approve": False, "reason": "重复审批"}, format="json")
    assert response.status_code == 400 and "status" in response.json()
    history = Application.history.filter(id=application["id"]).values_list("history_user_id", flat=True)
    assert {district_a.pk, district_b.pk, officer.pk} <= set(history)


def test_an_id_number_registered_in_another_district_is_refused_on_the_field(district_a, west_staff, east, branch_tree):
    taken = household(west_staff, branch_tree["west"], 5)
    payload = {"branch": east.pk, "kind": "household", "name": taken.name, "id_number": taken.id_number}
    response = client_for(district_a).post(API + "beneficiaries/", payload, format="json")
    assert response.status_code == 400 and "其他区县" in str(response.json()["id_number"])
    assert Beneficiary.objects.count() == 1


def response_id(client, url) -> int:
    return client.get(url + "documents/").json()[0]["id"]


def test_the_decider_may_not_be_the_reviewer_and_a_rejected_application_stays_rejected(
    district_a, officer, officer2, funded_project, east
):
    beneficiary = household(district_a, east, 0)
    application = apply(district_a, funded_project, beneficiary)
    application_review(by=officer, application=application, passed=True, reason="属实")
    url = f"{API}applications/{application.pk}/decide/"
    response = client_for(officer).post(url, {"approve": True, "reason": "同意"}, format="json")
    assert response.status_code == 403
    response = client_for(officer2).post(url, {"approve": False, "reason": "不符合条件"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    response = client_for(officer2).post(url, {"approve": True, "reason": "改为同意"}, format="json")
    assert response.status_code == 400 and "status" in response.json()
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED and application.approved_amount is None


def test_an_open_duplicate_blocks_the_approval(district_a, district_b, officer, funded_project, east):
    register(district_a, east, name="孙一", id_number=cn_id("19700101", 61), phone="13800000061")
    suspect = register(district_a, east, name="孙一", phone="13800000061").beneficiary
    application = apply(district_a, funded_project, suspect)
    application_review(by=district_b, application=application, passed=True, reason="属实")
    response = client_for(officer).post(f"{API}applications/{application.pk}/decide/",
                                        {"approve": True, "reason": "同意"}, format="json")  # fmt: skip
    assert response.status_code == 400 and "beneficiary" in response.json()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"situation": ""}, "situation"),
        ({"situation": "困" * 4001}, "situation"),
        ({"requested_amount": "600"}, "requested_amount"),  # above the project's cap of 500
        ({"requested_amount": "1e30"}, "requested_amount"),
        ({"requested_amount": "abc"}, "requested_amount"),
        ({"project": "abc"}, "project"),
        ({"project": 10**12}, "project"),
        ({"beneficiary": None}, "beneficiary"),
    ],
)
def test_bad_application_input_names_the_field_and_writes_nothing(district_a, funded_project, east, change, field):
    beneficiary = household(district_a, east, 0)
    payload = {"project": funded_project.pk, "beneficiary": beneficiary.pk, "situation": "困难", **change}
    response = client_for(district_a).post(API + "applications/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Application.objects.exists()


def test_application_filters_and_the_hardship_account_for_relief_roles_only(
    district_a, leader, people, funded_project, officer, city, east, west_staff, branch_tree
):
    other = project_open(by=officer, project=make_project(officer, city, name="另一个项目"))
    first = apply(district_a, funded_project, household(district_a, east, 0), situation="母亲患尿毒症")
    apply(district_a, other, household(district_a, east, 1))
    apply(west_staff, funded_project, household(west_staff, branch_tree["west"], 2))
    application_review(by=people["reviewer"], application=first, passed=True, reason="属实")
    client = client_for(officer)

    def ids(query):
        return sorted(row["id"] for row in client.get(f"{API}applications/?{query}").json()["results"])

    assert len(ids(f"project={funded_project.pk}")) == 2
    assert ids(f"project={funded_project.pk}&district={east.pk}") == [first.pk]
    assert ids("status=reviewed") == ids("queue=decide") == [first.pk]
    assert len(ids("queue=review")) == 2
    assert client.get(f"{API}applications/?status=lost").status_code == 400
    assert client.get(f"{API}applications/{first.pk}/").json()["situation"] == "母亲患尿毒症"
    visit_record(by=district_a, application=first, kind="assessment", visited_on=timezone.localdate(),
                 findings="病情属实，需长期透析")  # fmt: skip
    response = client_for(leader).get(f"{API}applications/{first.pk}/")
    assert response.json()["situation"] is None and response.json()["visits"][0]["findings"] is None
    assert "尿毒症".encode() not in response.content and "透析".encode() not in response.content
    assert "*" in response.json()["beneficiary_name"]


def test_visits_and_a_referral_outcome(district_a, district_b, officer, city, east):
    referral = make_project(officer, city, name="小天使基金", kind="medical", is_referral=True,
                            referral_body="中国红十字基金会", visit_required=False)  # fmt: skip
    project_open(by=officer, project=referral)
    application = apply(district_a, referral, household(district_a, east, 0))
    url = f"{API}applications/{application.pk}/"
    client = client_for(district_a)
    for visit, field in (
        ({"kind": "follow_up", "visited_on": timezone.localdate().isoformat(), "findings": "回访"}, "kind"),
        ({"kind": "assessment", "visited_on": (timezone.localdate() + timedelta(days=3)).isoformat(),
          "findings": "未来"}, "visited_on"),
        ({"kind": "assessment", "visited_on": "2026-02-30", "findings": "x"}, "visited_on"),
        ({"kind": "assessment", "visited_on": timezone.localdate().isoformat()}, "findings"),
    ):  # fmt: skip
        response = client.post(url + "visits/", visit, format="json")
        assert response.status_code == 400 and field in response.json(), visit
    assert not Visit.objects.exists()
    application_review(by=district_b, application=application, passed=True, reason="属实")
    response = client_for(officer).post(url + "decide/", {"approve": True, "reason": "转报"}, format="json")
    assert response.json()["status"] == "forwarded" and response.json()["referral_outcome"] == "pending"
    response = client.post(url + "referral-outcome/", {"outcome": "maybe"}, format="json")
    assert response.status_code == 400 and "outcome" in response.json()
    response = client.post(url + "referral-outcome/", {"outcome": "granted", "amount": "30000", "note": "首批"},
                           format="json")  # fmt: skip
    assert response.status_code == 200, response.content
    assert (response.json()["referral_outcome"], response.json()["referral_amount"]) == ("granted", "30000.00")


# --- disbursements ---------------------------------------------------------------------------


def test_bank_disbursement_the_caps_and_no_double_aid(district_a, people, funded_project, east, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    application = approved(funded_project, household(district_a, east, 0), **people, amount="300")
    client = client_for(district_a)
    for payload, field in (
        ({"method": "bank", "voucher_number": "V1", "amount": "350"}, "amount"),  # above the approved amount
        ({"method": "bank", "voucher_number": "V1", "amount": "1e20"}, "amount"),
        ({"method": "bank"}, "voucher_number"),
        ({"method": "cheque", "voucher_number": "V1"}, "method"),
        ({"method": "goods", "goods": [{"source": 10**6, "quantity": "1"}]}, "goods[0].source"),
        ({"method": "goods", "goods": [{"source": "x", "quantity": "1"}]}, "goods"),
        ({"method": "bank", "voucher_number": "V1", "disbursed_on": "2999-01-01"}, "disbursed_on"),
        ({"method": "bank", "voucher_number": "<img src=x onerror=alert(1)>" * 5}, "voucher_number"),
    ):  # fmt: skip
        response = client.post(API + "aid/", {"application": application.pk, **payload}, format="json")
        assert response.status_code == 400, payload
        assert field in str(response.json()), (payload, response.json())
    assert not Aid.objects.exists()
    forged = client.post(API + "aid/", {"application": application.pk, "method": "bank", "voucher_number": "V1",
                                        "receipt_scan": pdf("签收.pdf", FORGED)}, format="multipart")  # fmt: skip
    assert forged.status_code == 400 and "receipt_scan" in forged.json()
    response = client.post(API + "aid/", {"application": application.pk, "method": "bank", "voucher_number": "V1",
                                          "receipt_scan": pdf("签收.pdf")}, format="multipart")  # fmt: skip
    assert response.status_code == 201, response.content
    aid = response.json()
    assert (aid["status"], aid["amount"], aid["has_receipt_scan"]) == ("paid", "300.00", True)
    assert client.get(f"{API}aid/{aid['id']}/").json()["number"] == aid["number"]
    assert [
        row["id"] for row in client.get(f"{API}aid/?project={funded_project.pk}&status=paid").json()["results"]
    ] == [aid["id"]]
    response = client.post(API + "aid/", {"application": application.pk, "method": "bank", "voucher_number": "V2"},
                           format="json")  # fmt: skip
    assert response.status_code == 400 and "beneficiary" in response.json()
    funded_project.refresh_from_db()
    assert funded_project.paid_out == Decimal("300.00")
    books = client_for(people["decider"]).get(f"{API}projects/{funded_project.pk}/books/").json()
    assert books["is_balanced"] and books["paid_out"] == "300.00" and books["balance"] == "9700.00"


def test_the_yearly_cap_and_an_application_not_approved(district_a, people, officer, city, clerk, finance,
                                                        campaign, funded_project, east):  # fmt: skip
    beneficiary = household(district_a, east, 0)
    first = approved(funded_project, beneficiary, **people, amount="500")
    client = client_for(district_a)
    assert client.post(API + "aid/", {"application": first.pk, "method": "bank", "voucher_number": "V1"},
                       format="json").status_code == 201  # fmt: skip
    second_project = make_project(officer, city, name="助困", kind="hardship", cap_per_year="800.00")
    fund(second_project, "5000.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    project_open(by=officer, project=second_project)
    second = approved(second_project, beneficiary, **people, amount="400")
    response = client.post(API + "aid/", {"application": second.pk, "method": "bank", "voucher_number": "V2"},
                           format="json")  # fmt: skip
    assert response.status_code == 400 and "amount" in response.json()  # 500 + 400 above the yearly 800
    pending = apply(district_a, funded_project, household(district_a, east, 1))
    response = client.post(API + "aid/", {"application": pending.pk, "method": "bank", "voucher_number": "V3"},
                           format="json")  # fmt: skip
    assert response.status_code == 400 and "application" in response.json()
    assert Aid.objects.count() == 1


def test_goods_come_from_the_lots_the_projects_transfer_order_brought_in(
    district_a, people, officer, city, clerk, finance, campaign, east
):
    from donations.services.allocations import allocation_confirm, allocation_plan_register, allocation_register_goods
    from donations.services.intake import donation_confirm, donation_register
    from donations.services.warehouse import stock_in_check, stock_movement_confirm
    from relief.services.projects import project_funding_add
    from tests.donations.factories import OrganisationDonorFactory, WarehouseFactory

    keeper_a = StaffFactory(branch=city, roles=["warehouse_keeper"])
    keeper_b = StaffFactory(branch=city, roles=["warehouse_keeper"])
    warehouse = WarehouseFactory(branch=city)
    gift = donation_register(
        by=clerk, branch=city, donor=OrganisationDonorFactory(branch=city), campaign=campaign, kind="in_kind",
        channel="on_site", received_at=timezone.now() - timedelta(hours=3),
        items=[{"name": "棉被", "quantity": "10", "unit": "床", "unit_value": "160.00", "value_basis": "invoice"}],
    )  # fmt: skip
    lot = donation_confirm(donation=gift, by=finance).items.get()
    stock_movement_confirm(movement=stock_in_check(by=keeper_a, item=lot, warehouse=warehouse, counted_quantity="10",
                                                   condition="完好"), by=keeper_b)  # fmt: skip
    project = make_project(officer, city, name="博爱送温暖", cap_per_project="400")
    plan = allocation_plan_register(
        by=clerk, branch=city, document_number="测红〔2026〕9号", title="棉被分配方案", issuing_body="测试市红十字会",
        issued_on=timezone.localdate(), lines=[{"kind": "in_kind", "campaign": campaign, "recipient": project.recipient,
                                                "item_name": "棉被", "quantity": "10", "unit": "床"}],
    )  # fmt: skip
    order = allocation_register_goods(
        by=keeper_a, campaign=campaign, recipient=project.recipient, allocated_on=timezone.localdate(),
        lines=[{"item": lot, "warehouse": warehouse, "quantity": "10"}], plan_line=plan.lines.get(),
    )  # fmt: skip
    order = allocation_confirm(allocation=order, by=keeper_b)
    project_funding_add(by=officer, project=project, allocation=order)
    project_open(by=officer, project=project)
    source = order.sources.get()
    application = approved(project, household(district_a, east, 0), **people, amount="400")
    client = client_for(district_a)
    for quantity, field in (("3", "amount"), ("11", "goods[0].quantity"), ("-1", "quantity"), ("1e40", "quantity")):
        body = {
            "application": application.pk,
            "method": "goods",
            "goods": [{"source": source.pk, "quantity": quantity}],
        }
        response = client.post(API + "aid/", body, format="json")
        assert response.status_code == 400 and field in str(response.json()), (quantity, response.json())
    assert not Aid.objects.exists()
    body = {"application": application.pk, "method": "goods", "goods": [{"source": source.pk, "quantity": "2"}]}
    response = client.post(API + "aid/", body, format="json")
    assert response.status_code == 201, response.content
    aid = response.json()
    assert (aid["amount"], aid["goods_value"], aid["status"]) == ("0.00", "320.00", "paid")
    assert aid["goods_lines"] == [{"source": source.pk, "quantity": "2.000", "value": "320.00"}]
    books = client_for(officer).get(f"{API}projects/{project.pk}/books/").json()
    assert books["is_balanced"] and (books["goods_out"], books["balance"]) == ("320.00", "1280.00")


def test_cash_needs_a_second_signature_and_can_be_cancelled_with_a_reason(
    district_a, district_b, people, funded_project, east, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    one = approved(funded_project, household(district_a, east, 0), **people, amount="200")
    two = approved(funded_project, household(district_a, east, 1), **people, amount="100")
    registrar, colleague = client_for(district_a), client_for(district_b)
    first = registrar.post(API + "aid/", {"application": one.pk, "method": "cash"}, format="json").json()
    assert first["status"] == "registered"
    response = registrar.post(f"{API}aid/{first['id']}/confirm/")
    assert response.status_code == 403 and "双人双签" in response.json()["detail"]
    response = colleague.post(f"{API}aid/{first['id']}/confirm/")
    assert response.status_code == 200 and response.json()["status"] == "paid"
    assert response.json()["confirmed_by"] == district_b.pk
    assert colleague.post(f"{API}aid/{first['id']}/confirm/").status_code == 400
    assert registrar.post(f"{API}aid/{first['id']}/cancel/", {"reason": "错发"}, format="json").status_code == 400

    second = registrar.post(API + "aid/", {"application": two.pk, "method": "cash"}, format="json").json()
    response = registrar.post(f"{API}aid/{second['id']}/cancel/", {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    response = registrar.post(f"{API}aid/{second['id']}/cancel/", {"reason": "受助人已搬离"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    funded_project.refresh_from_db()
    assert funded_project.paid_out == Decimal("200.00")

    url = f"{API}aid/{first['id']}/receipt-scan/"
    assert registrar.get(url).status_code == 404
    response = registrar.post(url, {"receipt_scan": pdf("手印.pdf", FORGED)}, format="multipart")
    assert response.status_code == 400 and "receipt_scan" in response.json()
    response = registrar.post(url, {"receipt_scan": pdf("手印.pdf")}, format="multipart")
    assert response.status_code == 200 and response.json()["has_receipt_scan"] is True
    assert b"".join(registrar.get(url).streaming_content).startswith(b"%PDF")


def test_a_batch_pays_the_approved_and_lists_the_refused(district_a, people, funded_project, east, west_staff,
                                                         branch_tree):  # fmt: skip
    applications = [approved(funded_project, household(district_a, east, i), **people, amount="400")
                    for i in range(3)]  # fmt: skip
    client = client_for(district_a)
    client.post(API + "aid/", {"application": applications[0].pk, "method": "bank", "voucher_number": "V"},
                format="json")  # fmt: skip
    west_one = apply(west_staff, funded_project, household(west_staff, branch_tree["west"], 9))
    response = client.post(API + "aid/batch/", {"project": funded_project.pk, "voucher_number": "PL-1",
                                                "applications": [a.pk for a in applications] + [west_one.pk]},
                           format="json")  # fmt: skip
    assert response.status_code == 400 and "applications" in response.json()  # not one of east's
    for payload, field in (({"applications": ["x"]}, "applications"), ({"voucher_number": ""}, "voucher_number"),
                           ({"project": 10**12}, "project")):  # fmt: skip
        body = {"project": funded_project.pk, "voucher_number": "PL-1", **payload}
        response = client.post(API + "aid/batch/", body, format="json")
        assert response.status_code == 400 and field in response.json(), payload
    assert Aid.objects.count() == 1
    response = client.post(API + "aid/batch/", {"project": funded_project.pk, "voucher_number": "PL-1"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["done"] == 2 and body["refused"] == [{"number": applications[0].number, "reason": "本期已获救助"}]
    funded_project.refresh_from_db()
    assert funded_project.paid_out == Decimal("1200.00")


def test_livelihood_shares_and_dividends(district_a, people, officer, city, clerk, finance, campaign, east):
    project = make_project(officer, city, name="博爱家园", kind="livelihood", visit_required=False)
    fund(project, "10000.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    project_open(by=officer, project=project)
    homes = [household(district_a, east, i) for i in range(3)]
    for home in homes:
        approved(project, home, **people, amount="1")
    stranger = household(district_a, east, 7)
    client = client_for(district_a)
    for home, shares in zip(homes, ("2", "1", "1"), strict=True):
        response = client.post(API + "livelihood-shares/", {"project": project.pk, "beneficiary": home.pk,
                                                            "year": 2025, "shares": shares}, format="json")  # fmt: skip
        assert response.status_code == 201, response.content
    for payload, field in (({"beneficiary": stranger.pk}, "beneficiary"), ({"shares": "-1"}, "shares"),
                           ({"year": 1900}, "year"), ({"shares": "abc"}, "shares")):  # fmt: skip
        body = {"project": project.pk, "beneficiary": homes[0].pk, "year": 2025, "shares": "1", **payload}
        response = client.post(API + "livelihood-shares/", body, format="json")
        assert response.status_code == 400 and field in response.json(), payload
    assert LivelihoodShare.objects.count() == 3
    assert len(client.get(f"{API}livelihood-shares/?project={project.pk}&year=2025").json()["results"]) == 3

    url = f"{API}projects/{project.pk}/dividends/"
    officer_client = client_for(officer)
    response = officer_client.post(url, {"year": 2025, "total": "99999", "voucher_number": "FH"}, format="json")
    assert response.status_code == 400 and "total" in response.json()
    response = officer_client.post(url, {"year": 2025, "total": "1000.00", "voucher_number": "FH"}, format="json")
    assert response.status_code == 201, response.content
    amounts = sorted(row["amount"] for row in response.json()["aids"])
    assert response.json()["households"] == 3 and amounts == ["250.00", "250.00", "500.00"]
    response = officer_client.post(url, {"year": 2025, "total": "1.00", "voucher_number": "FH2"}, format="json")
    assert response.status_code == 400 and "year" in response.json()


# --- lists read a fixed number of queries ------------------------------------------------------


def test_every_list_reads_a_fixed_number_of_queries(
    district_a, district_b, officer, people, funded_project, east, settings, tmp_path, django_assert_max_num_queries
):
    settings.MEDIA_ROOT = tmp_path
    client = client_for(officer)
    urls = [API + path for path in ("projects/", "beneficiaries/", "duplicates/", "applications/", "aid/")]
    for url in urls:
        client.get(url)  # warm the user's permission and branch caches

    def add_rows(start: int) -> None:
        for index in range(start, start + 3):
            make_project(officer, funded_project.branch, name=f"项目{index}")
            home = household(
                district_a,
                east,
                index,
                phone=f"1390000{index:04d}",
                members=[{"name": "成员", "relation": "子", "id_number": cn_id("20100101", 500 + index)}],
            )
            application = apply(district_a, funded_project, home, documents=[("other", pdf())])
            visit_record(by=district_a, application=application, kind="assessment", visited_on=timezone.localdate(),
                         findings="属实")  # fmt: skip
            application_review(by=district_b, application=application, passed=True, reason="属实")
            application_decide(by=officer, application=application, approve=True, reason="同意", approved_amount="10")
            register(district_a, east, name="疑似" + "甲乙丙丁戊己"[index], phone=f"1390000{index:04d}")
            client_for(district_a).post(API + "aid/", {"application": application.pk, "method": "cash"},
                                        format="json")  # fmt: skip

    add_rows(0)
    before = {url: queries(client, url) for url in urls}
    add_rows(3)
    for url in urls:
        with django_assert_max_num_queries(8):
            count, body = queries(client, url)
        assert count == before[url][0], url
        assert len(body["results"]) > len(before[url][1]["results"]), url


# --- the schema ------------------------------------------------------------------------------


def test_the_relief_endpoints_are_in_the_openapi_schema_and_it_validates(officer, tmp_path):
    paths = client_for(officer).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    for path in (
        "projects/", "projects/{id}/", "projects/{id}/open/", "projects/{id}/close/", "projects/{id}/fundings/",
        "projects/{id}/fundings/collect/", "projects/{id}/books/", "projects/{id}/dividends/", "beneficiaries/",
        "duplicates/", "duplicates/{id}/clear/", "duplicates/{id}/merge/", "applications/",
        "applications/{id}/documents/", "applications/{id}/visits/", "applications/{id}/review/",
        "applications/{id}/decide/", "applications/{id}/referral-outcome/", "aid/", "aid/batch/",
        "aid/{id}/confirm/", "aid/{id}/receipt-scan/", "aid/{id}/cancel/", "livelihood-shares/",
    ):  # fmt: skip
        assert API + path in paths, path
    # no warning (enum names, component names): the schema stays clean for its readers
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
