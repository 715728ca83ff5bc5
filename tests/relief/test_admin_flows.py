"""A relief officer's work in the admin, from a funded project to a signed-for disbursement:
registering an application (beneficiary, household members, documents), adding a document,
recording visits, disbursing one application or a surge's batch, the recipient's receipt scan
recorded later, 博爱家园 shares and dividends. Every page calls the relief services; their errors
show on the field they name, and nothing is written."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from relief.models import (
    Aid,
    AidStatus,
    Application,
    ApplicationDocument,
    Beneficiary,
    HouseholdMember,
    LivelihoodShare,
    Visit,
)
from relief.services.aid import aid_disburse
from relief.services.projects import project_open
from tests.factories import StaffFactory
from tests.relief.conftest import apply, approved, cn_id, fund, make_project, pdf, register

pytestmark = pytest.mark.django_db

HEAD_ID = cn_id("19680305", 12)
MEMBER_ID = cn_id("19700101", 12)
CHILD_ID = cn_id("20120601", 13)
ADD = "admin:relief_application_add"


def forged(name="诊断证明.pdf"):
    return SimpleUploadedFile(name, b"<html><script>alert(1)</script></html>", content_type="application/pdf")


def register_data(project, district, **overrides):
    data = {
        "project": project.pk, "branch": district.pk, "kind": "household", "name": "王秀英", "id_number": HEAD_ID,
        "phone": "13912340001", "birth_date": "1968-03-05", "sex": "female", "address": "东区幸福路 1 号",
        "illness": "慢性病", "income": "低保", "disability": "", "situation": "冬季缺少取暖物资",
        "requested_amount": "300",
        "members-TOTAL_FORMS": "3", "members-INITIAL_FORMS": "0",
        "members-0-name": "李建国", "members-0-relation": "配偶", "members-0-id_number": MEMBER_ID,
        "members-1-name": "李小明", "members-1-relation": "子女", "members-1-id_number": CHILD_ID,
        "members-1-birth_date": "2012-06-01",
        "documents-TOTAL_FORMS": "2", "documents-INITIAL_FORMS": "0",
    }  # fmt: skip
    data.update(overrides)
    return data


def nothing_written():
    assert not Beneficiary.objects.exists()
    assert not HouseholdMember.objects.exists()
    assert not Application.objects.exists()
    assert not ApplicationDocument.objects.exists()


def form_errors(response):
    return response.context["form"].errors


def line_errors(response, formset_index: int, line: int):
    return response.context["formsets"][formset_index][1].forms[line].errors


# --- registering an application -------------------------------------------------------------


def test_a_district_officer_registers_a_household_with_members_and_a_document(client, district_a, funded_project, east):
    client.force_login(district_a)
    page = client.get(reverse(ADD), {"project": funded_project.pk})
    assert page.status_code == 200 and "家庭成员" in page.text and funded_project.name in page.text
    data = register_data(funded_project, east, **{"documents-0-kind": "income", "documents-0-file": pdf()})
    response = client.post(reverse(ADD), data)
    assert response.status_code == 302, form_errors(response)
    application = Application.objects.get()
    assert response["Location"] == reverse("admin:relief_application_change", args=[application.pk])
    assert application.channel == "staff" and application.registered_by == district_a
    assert application.requested_amount == Decimal("300.00") and application.branch == east
    household = application.beneficiary
    assert household.id_number == HEAD_ID and household.illness == "慢性病"
    assert sorted(household.members.values_list("relation", flat=True)) == ["子女", "配偶"]
    assert application.documents.get().kind == "income"
    # the application's page links to its next steps
    page = client.get(response["Location"]).text
    assert reverse("admin:relief_application_visit", args=[application.pk]) in page
    assert reverse("admin:relief_application_document", args=[application.pk]) in page
    assert reverse("admin:relief_application_disburse", args=[application.pk]) not in page  # not approved


def test_the_same_id_number_registers_no_second_beneficiary(client, district_a, funded_project, east, officer, city):
    make_project(officer, city, name="第二个项目")  # planned: takes no applications
    existing = register(district_a, east, id_number=HEAD_ID).beneficiary
    client.force_login(district_a)
    data = register_data(funded_project, east, **{"members-TOTAL_FORMS": "0"})
    response = client.post(reverse(ADD), data, follow=True)
    assert Application.objects.get().beneficiary == existing
    assert Beneficiary.objects.count() == 1
    assert "沿用已登记的信息" in response.text
    page = client.get(reverse(ADD)).text
    assert "第二个项目" not in page  # only open projects


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"name": "", "situation": ""}, ("form", "name")),
        ({"id_number": HEAD_ID[:-1] + ("0" if HEAD_ID[-1] != "0" else "1")}, ("form", "id_number")),
        ({"phone": "12345"}, ("form", "phone")),
        ({"requested_amount": "600"}, ("form", "requested_amount")),  # the project's cap is 500
        ({"requested_amount": "1e999"}, ("form", "requested_amount")),
        ({"members-1-id_number": MEMBER_ID, "members-1-birth_date": ""}, ("members", 1, "id_number")),  # repeated
        ({"members-0-id_number": HEAD_ID}, ("members", 0, "id_number")),  # the head as a member
        ({"members-0-id_number": "110105197001010000"}, ("members", 0, "id_number")),  # a wrong checksum
        ({"members-0-relation": ""}, ("members", 0, "relation")),
        ({"documents-0-kind": "income", "documents-0-file": "FORGED"}, ("documents", 0, "file")),
        ({"documents-0-kind": "", "documents-0-file": "PDF"}, ("documents", 0, "kind")),
        ({"branch": "WEST"}, ("form", "branch")),  # another district's branch is not a choice
    ],
)
def test_bad_input_shows_on_its_field_and_writes_nothing(
    client, district_a, funded_project, east, branch_tree, overrides, where
):
    overrides = dict(overrides)
    for key, value in overrides.items():
        if value == "FORGED":
            overrides[key] = forged()
        elif value == "PDF":
            overrides[key] = pdf()
        elif value == "WEST":
            overrides[key] = branch_tree["west"].pk
    client.force_login(district_a)
    response = client.post(reverse(ADD), register_data(funded_project, east, **overrides))
    assert response.status_code == 200
    if where[0] == "form":
        assert where[1] in form_errors(response), form_errors(response)
    else:
        index = {"members": 0, "documents": 1}[where[0]]
        assert where[2] in line_errors(response, index, where[1]), line_errors(response, index, where[1])
    nothing_written()


def test_an_oversized_document_is_refused_on_its_row(client, district_a, funded_project, east, settings):
    settings.UPLOAD_MAX_MB = 0
    client.force_login(district_a)
    data = register_data(funded_project, east, **{"documents-0-kind": "income", "documents-0-file": pdf()})
    response = client.post(reverse(ADD), data)
    assert "file" in line_errors(response, 1, 0)
    nothing_written()


def test_a_member_of_another_household_is_refused_on_the_members_row(client, district_a, funded_project, east):
    register(district_a, east, name="张桂兰", id_number=cn_id("19600101", 20),
             members=[{"name": "李建国", "relation": "配偶", "id_number": MEMBER_ID}])  # fmt: skip
    client.force_login(district_a)
    response = client.post(reverse(ADD), register_data(funded_project, east))
    assert "id_number" in line_errors(response, 0, 0)
    assert Beneficiary.objects.count() == 1 and not Application.objects.exists()


def test_sensitive_fields_are_offered_only_to_relief_roles(client, funded_project, city):
    leader = StaffFactory(branch=city, roles=["leadership"])
    client.force_login(leader)
    assert client.get(reverse(ADD)).status_code == 403  # view-only roles register nothing
    reviewer = StaffFactory(branch=city, roles=["relief_reviewer"])
    client.force_login(reviewer)
    assert client.get(reverse(ADD)).status_code == 403


def test_other_roles_and_districts_are_kept_out(client, clerk, west_staff, district_a, funded_project, east):
    application = apply(district_a, funded_project, register(district_a, east).beneficiary)
    client.force_login(clerk)
    assert client.get(reverse(ADD)).status_code == 403
    client.force_login(west_staff)
    page = client.get(reverse(ADD))
    assert page.status_code == 200 and funded_project.name in page.text  # the city's project takes them too
    for name in ("visit", "document", "disburse"):
        url = reverse(f"admin:relief_application_{name}", args=[application.pk])
        assert client.get(url).status_code == 404
        assert client.post(url, {"kind": "assessment"}).status_code == 404
    assert not Visit.objects.exists()


# --- documents and visits ---------------------------------------------------------------------


def test_a_document_is_added_and_a_forged_one_refused(client, district_a, funded_project, east):
    application = apply(district_a, funded_project, register(district_a, east).beneficiary)
    url = reverse("admin:relief_application_document", args=[application.pk])
    client.force_login(district_a)
    assert client.get(url).status_code == 200
    response = client.post(url, {"kind": "diagnosis", "file": forged()})
    assert "file" in form_errors(response) and not ApplicationDocument.objects.exists()
    response = client.post(url, {"kind": "", "file": pdf()})
    assert "kind" in form_errors(response) and not ApplicationDocument.objects.exists()
    assert client.post(url, {"kind": "diagnosis", "file": pdf()}).status_code == 302
    document = ApplicationDocument.objects.get()
    assert document.uploaded_by == district_a and document.application == application


def test_visits_before_review_and_after_aid(client, district_a, district_b, officer, funded_project, east):
    application = apply(district_a, funded_project, register(district_a, east).beneficiary)
    url = reverse("admin:relief_application_visit", args=[application.pk])
    client.force_login(district_b)
    assert client.get(url).status_code == 200
    response = client.post(url, {"kind": "follow_up", "visited_on": "2026-01-05", "findings": "已送达"})
    assert "kind" in form_errors(response)  # no aid given yet
    response = client.post(url, {"kind": "assessment", "visited_on": "2999-01-01", "findings": "情况属实"})
    assert "visited_on" in form_errors(response)
    response = client.post(url, {"kind": "assessment", "visited_on": "", "findings": ""})
    assert {"visited_on", "findings"} <= set(form_errors(response))
    assert not Visit.objects.exists()
    response = client.post(url, {"kind": "assessment", "visited_on": "2026-01-05", "findings": "情况属实"})
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert visit.visited_by == district_b and visit.findings == "情况属实"


# --- disbursing --------------------------------------------------------------------------------


@pytest.fixture
def granted(funded_project, district_a, district_b, officer, east):
    return approved(funded_project, register(district_a, east).beneficiary, registrar=district_a,
                    reviewer=district_b, decider=officer, amount="300")  # fmt: skip


def disburse_data(**overrides):
    data = {"method": "bank", "disbursed_on": "", "amount": "", "voucher_number": "ZZ2026-0001",
            "goods-TOTAL_FORMS": "1", "goods-INITIAL_FORMS": "0"}  # fmt: skip
    data.update(overrides)
    return data


def test_one_application_is_disbursed_by_bank_with_the_voucher_and_signature(client, district_a, granted):
    url = reverse("admin:relief_application_disburse", args=[granted.pk])
    client.force_login(district_a)
    page = client.get(reverse("admin:relief_application_change", args=[granted.pk]))
    assert url in page.text
    assert client.get(url).status_code == 200
    response = client.post(url, disburse_data(voucher_number=""))
    assert "voucher_number" in form_errors(response)
    response = client.post(url, disburse_data(amount="350"))
    assert "amount" in form_errors(response)  # above the approved 300
    response = client.post(url, disburse_data(voucher=forged("凭证.pdf")))
    assert "voucher" in form_errors(response)
    response = client.post(url, disburse_data(method="goods"))
    assert form_errors(response)  # no goods given
    assert not Aid.objects.exists()
    response = client.post(url, disburse_data(voucher=pdf("凭证.pdf"), receipt_scan=pdf("签字.pdf")))
    aid = Aid.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("admin:relief_aid_change", args=[aid.pk])
    assert aid.status == AidStatus.PAID and aid.amount == Decimal("300.00") and aid.receipt_scan
    granted.project.refresh_from_db()
    assert granted.project.paid_out == Decimal("300.00")
    page = client.get(reverse("admin:relief_application_change", args=[granted.pk])).text
    assert url not in page and aid.number in page  # paid once: no second link, the aid listed
    response = client.post(url, disburse_data())
    assert Aid.objects.count() == 1  # no double aid


def test_cash_waits_for_a_second_signature(client, district_a, granted):
    client.force_login(district_a)
    url = reverse("admin:relief_application_disburse", args=[granted.pk])
    response = client.post(url, disburse_data(method="cash", voucher_number="", amount="200"), follow=True)
    assert "待另一名工作人员签字" in response.text
    assert Aid.objects.get().status == AidStatus.REGISTERED


def test_the_reviewer_role_does_not_disburse(client, relief_reviewer, granted):
    client.force_login(relief_reviewer)
    assert client.get(reverse("admin:relief_application_disburse", args=[granted.pk])).status_code == 403


def test_the_receipt_scan_is_recorded_later(client, district_a, west_staff, granted):
    aid = aid_disburse(by=district_a, application=granted, method="bank", voucher_number="V1")
    url = reverse("admin:relief_aid_receipt", args=[aid.pk])
    client.force_login(west_staff)
    assert client.get(url).status_code == 404
    client.force_login(district_a)
    assert url in client.get(reverse("admin:relief_aid_change", args=[aid.pk])).text
    response = client.post(url, {"receipt_scan": forged("签字.png")})
    assert "receipt_scan" in form_errors(response)
    aid.refresh_from_db()
    assert not aid.receipt_scan
    response = client.post(url, {})
    assert "receipt_scan" in form_errors(response)
    assert client.post(url, {"receipt_scan": pdf("签字.pdf")}).status_code == 302
    aid.refresh_from_db()
    assert aid.receipt_scan
    assert client.get(reverse("admin:relief_aid_file", args=[aid.pk, "receipt_scan"])).status_code == 200
    missing = client.get(reverse("admin:relief_aid_changelist"), {"receipt": "missing"}).context["cl"].result_list
    assert aid not in list(missing)


# --- the surge's batch -----------------------------------------------------------------------


def household(by, east, index):
    name = "测试户" + "甲乙丙丁戊己庚辛壬癸子丑"[index]
    return register(by, east, name=name, id_number=cn_id("19700101", 40 + index)).beneficiary


def test_a_batch_by_one_bank_transfer_lists_the_refused(client, district_a, district_b, officer, funded_project, east):
    people = {"registrar": district_a, "reviewer": district_b, "decider": officer}
    paid = [approved(funded_project, household(district_a, east, i), **people, amount="200") for i in range(3)]
    waiting = apply(district_a, funded_project, household(district_a, east, 3))
    ids = [a.pk for a in (*paid, waiting)]
    url = reverse("admin:relief_application_changelist")
    client.force_login(district_a)
    action = {"action": "disburse_batch", "_selected_action": ids}
    page = client.post(url, action)
    assert page.status_code == 200 and "批量转账凭证号" in page.text and "600.00" in page.text
    response = client.post(url, {**action, "apply": "1", "voucher_number": ""})
    assert "voucher_number" in response.context["form"].errors and not Aid.objects.exists()
    response = client.post(url, {**action, "apply": "1", "voucher_number": "PL2026-001"})
    assert response.status_code == 200 and waiting.number in response.text and "未获批准" in response.text
    assert Aid.objects.filter(voucher_number="PL2026-001", status=AidStatus.PAID).count() == 3
    funded_project.refresh_from_db()
    assert funded_project.paid_out == Decimal("600.00")


def test_a_batch_across_the_filtered_list_and_only_one_project(
    client, district_a, district_b, officer, funded_project, east, city, clerk, finance, campaign
):
    people = {"registrar": district_a, "reviewer": district_b, "decider": officer}
    for i in range(3):
        approved(funded_project, household(district_a, east, i), **people, amount="100")
    other = make_project(officer, city, name="第二个项目")
    fund(other, "100.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    other = project_open(by=officer, project=other)
    approved(other, household(district_a, east, 5), **people, amount="100")
    url = reverse("admin:relief_application_changelist")
    client.force_login(district_a)
    response = client.post(url, {"action": "disburse_batch", "select_across": "1", "_selected_action": [1]},
                           follow=True)  # fmt: skip
    assert "请只选择同一个救助项目的申请" in response.text and not Aid.objects.exists()
    filtered = f"{url}?project__id__exact={funded_project.pk}"
    page = client.post(filtered, {"action": "disburse_batch", "select_across": "1", "_selected_action": [1]})
    assert 'name="select_across" value="1"' in page.text
    client.post(filtered, {"action": "disburse_batch", "select_across": "1", "_selected_action": [1], "apply": "1",
                           "voucher_number": "PL9"})  # fmt: skip
    assert Aid.objects.filter(project=funded_project).count() == 3 and not Aid.objects.filter(project=other).exists()


def test_the_reviewer_role_has_no_batch_action(client, relief_reviewer):
    client.force_login(relief_reviewer)
    page = client.get(reverse("admin:relief_application_changelist"))
    assert "disburse_batch" not in page.text


# --- 博爱家园 ---------------------------------------------------------------------------------


@pytest.fixture
def village(officer, city, clerk, finance, campaign, district_a, district_b, east):
    project = make_project(officer, city, name="博爱家园试点村", kind="livelihood", visit_required=False)
    fund(project, "5000.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    project = project_open(by=officer, project=project)
    people = {"registrar": district_a, "reviewer": district_b, "decider": officer}
    homes = [household(district_a, east, i) for i in range(3)]
    for home in homes:
        approved(project, home, **people, amount="1")
    return project, homes


def test_shares_for_every_household_of_the_year_and_the_dividends(client, officer, village):
    project, homes = village
    client.force_login(officer)
    page = client.get(reverse("admin:relief_project_change", args=[project.pk])).text
    shares_url = reverse("admin:relief_livelihoodshare_shares", args=[project.pk])
    dividends_url = reverse("admin:relief_livelihoodshare_dividends", args=[project.pk])
    assert shares_url in page and dividends_url in page
    page = client.get(shares_url)
    assert page.status_code == 200 and all(home.masked_name in page.text for home in homes)
    fields = {f"shares_{home.pk}": shares for home, shares in zip(homes, ("2", "abc", "1"), strict=True)}
    response = client.post(shares_url, {"year": "2025", **fields})
    assert f"shares_{homes[1].pk}" in form_errors(response) and not LivelihoodShare.objects.exists()
    fields[f"shares_{homes[1].pk}"] = "1"
    assert client.post(shares_url, {"year": "2025", **fields}).status_code == 302
    assert LivelihoodShare.objects.filter(year=2025).count() == 3
    page = client.get(shares_url, {"year": "2025"}).text
    assert "已登记 2 股" in page
    assert "year" in form_errors(client.post(dividends_url, {"year": "2024", "total": "100", "voucher_number": "F"}))
    response = client.post(dividends_url, {"year": "2025", "total": "99999", "voucher_number": "F1"})
    assert "total" in form_errors(response) and not Aid.objects.exists()
    response = client.post(dividends_url, {"year": "2025", "total": "1000.00", "voucher_number": "F1"})
    assert response.status_code == 302
    assert sorted(Aid.objects.values_list("amount", flat=True)) == [Decimal("250.00"), Decimal("250.00"),
                                                                   Decimal("500.00")]  # fmt: skip


def test_livelihood_pages_only_for_livelihood_projects_and_scoped(client, officer, west_staff, village, funded_project):
    project, _homes = village
    client.force_login(officer)
    page = client.get(reverse("admin:relief_project_change", args=[funded_project.pk])).text
    assert "登记博爱家园股份" not in page
    assert client.get(reverse("admin:relief_livelihoodshare_shares", args=[funded_project.pk])).status_code == 404
    assert client.get(reverse("admin:relief_livelihoodshare_add")).status_code == 200
    client.force_login(west_staff)  # sees the city's project, none of its (eastern) households
    page = client.get(reverse("admin:relief_livelihoodshare_shares", args=[project.pk]))
    assert page.status_code == 200 and "测试户" not in page.text
    response = client.post(reverse("admin:relief_livelihoodshare_dividends", args=[project.pk]),
                           {"year": "2025", "total": "10", "voucher_number": "F"})  # fmt: skip
    assert form_errors(response) and not Aid.objects.exists()  # the city's project: not the district's to pay


# --- lists cost a fixed number of queries ------------------------------------------------------


def test_changelists_cost_the_same_for_more_rows(
    client, district_a, district_b, officer, funded_project, east, village, django_assert_num_queries
):
    people = {"registrar": district_a, "reviewer": district_b, "decider": officer}
    project, homes = village
    from relief.services.aid import livelihood_share_record

    def counts() -> list[int]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        found = []
        for name in ("aid", "livelihoodshare", "application"):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(reverse(f"admin:relief_{name}_changelist")).status_code == 200
            found.append(len(queries))
        return found

    client.force_login(officer)
    aid_disburse(by=district_a, application=approved(funded_project, household(district_a, east, 6), **people,
                                                     amount="10"), method="bank", voucher_number="V")  # fmt: skip
    livelihood_share_record(by=officer, project=project, beneficiary=homes[0], year=2025, shares="1")
    counts()
    few = counts()
    for index, home in enumerate(homes[1:]):
        livelihood_share_record(by=officer, project=project, beneficiary=home, year=2025, shares="1")
        application = approved(funded_project, household(district_a, east, 7 + index), **people, amount="10")
        aid_disburse(by=district_a, application=application, method="bank", voucher_number=f"V{index}")
    assert counts() == few


def test_the_review_page_says_what_it_does(client, district_a, district_b, funded_project, east):
    application = apply(district_a, funded_project, register(district_a, east).beneficiary)
    client.force_login(district_b)
    page = client.post(reverse("admin:relief_application_changelist"),
                       {"action": "review_pass", "_selected_action": [application.pk]})  # fmt: skip
    assert "确认初审通过" in page.text and "撤销" not in page.text
