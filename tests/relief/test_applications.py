"""Applications (issue 15, step 3): registered by district staff with documents through the
evidence-file checks, visits, submitted → district reviewed → city approved or rejected, each step
by a different person with a reason; referral projects forward and record the outcome."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from relief.models import Application, ApplicationDocument, ApplicationStatus
from relief.services.applications import (
    application_decide,
    application_document_add,
    application_referral_outcome,
    application_review,
    visit_record,
)
from relief.services.projects import project_open
from tests.relief.conftest import apply, approved, cn_id, make_project, pdf, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def household(district_a, east):
    return register(district_a, east, id_number=cn_id("19650312", 12), phone="13912345678").beneficiary


def test_an_application_is_numbered_and_takes_checked_documents(district_a, funded_project, household):
    application = apply(district_a, funded_project, household, documents=[("income", pdf("收入证明.pdf"))])
    assert application.number.startswith(f"{funded_project.branch.code}SQ")
    assert application.status == ApplicationStatus.SUBMITTED and application.branch == household.branch
    assert application.documents.get().kind == "income"
    assert application.history.first().history_user == district_a


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (pdf("证明.pdf", b"<html><script>alert(1)</script></html>"), "PDF"),  # forged: an HTML page named .pdf
        (pdf("证明.exe", b"%PDF-1.4"), "PDF"),
        (pdf("证明.pdf", b"%PDF-1.4" + b"0" * (11 * 1024 * 1024)), "MB"),  # oversized
    ],
)
def test_forged_or_oversized_documents_are_refused_and_nothing_is_written(
    district_a, funded_project, household, document, message
):
    with pytest.raises(ValidationError) as error:
        apply(district_a, funded_project, household, documents=[("diagnosis", document)])
    assert message in str(error.value.message_dict["documents[0].file"])
    assert Application.objects.count() == 0 and ApplicationDocument.objects.count() == 0


def test_one_live_application_per_beneficiary_and_project(district_a, funded_project, household):
    apply(district_a, funded_project, household)
    with pytest.raises(ValidationError) as error:
        apply(district_a, funded_project, household)
    assert "beneficiary" in error.value.message_dict


def test_bad_input_names_the_field(district_a, funded_project, household):
    for overrides, field in (
        ({"situation": ""}, "situation"),
        ({"situation": "x" * 5000}, "situation"),
        ({"requested_amount": "abc"}, "requested_amount"),
        ({"requested_amount": "600.00"}, "requested_amount"),  # above the project's cap of 500
        ({"documents": [("passport", pdf())]}, "documents[0].kind"),
    ):
        with pytest.raises(ValidationError) as error:
            apply(district_a, funded_project, household, **overrides)
        assert field in error.value.message_dict
    assert Application.objects.count() == 0


def test_a_project_not_open_takes_no_applications(district_a, officer, city, household):
    project = make_project(officer, city)
    with pytest.raises(ValidationError) as error:
        apply(district_a, project, household)
    assert "project" in error.value.message_dict


def test_each_step_by_a_different_person(district_a, district_b, officer, funded_project, household):
    application = apply(district_a, funded_project, household)
    with pytest.raises(PermissionDenied):
        application_review(by=district_a, application=application, passed=True, reason="自己初审")
    application_review(by=district_b, application=application, passed=True, reason="情况属实")
    with pytest.raises(PermissionDenied):  # district staff have no approval permission anyway
        application_decide(by=district_b, application=application, approve=True, reason="同意")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REVIEWED
    decided = application_decide(by=officer, application=application, approve=True, reason="同意",
                                 approved_amount="400")  # fmt: skip
    assert decided.status == ApplicationStatus.APPROVED and str(decided.approved_amount) == "400.00"


def test_the_reviewer_or_registrar_may_not_approve_even_with_the_permission(officer, officer2, funded_project, east):
    from tests.factories import StaffFactory

    city_officer = StaffFactory(branch=funded_project.branch, roles=["relief_officer"])
    beneficiary = register(officer, east, name="李桂兰").beneficiary
    application = apply(officer, funded_project, beneficiary)
    application_review(by=officer2, application=application, passed=True, reason="情况属实")
    for user in (officer, officer2):
        with pytest.raises(PermissionDenied, match="不同的工作人员"):
            application_decide(by=user, application=application, approve=True, reason="同意")
    assert application_decide(by=city_officer, application=application, approve=True, reason="同意").status == (
        ApplicationStatus.APPROVED
    )


def test_reasons_are_required_and_a_rejected_application_cannot_be_approved(
    district_a, district_b, officer, funded_project, household
):
    application = apply(district_a, funded_project, household)
    with pytest.raises(ValidationError) as error:
        application_review(by=district_b, application=application, passed=True, reason="")
    assert "reason" in error.value.message_dict
    application_review(by=district_b, application=application, passed=True, reason="情况属实")
    rejected = application_decide(by=officer, application=application, approve=False, reason="收入超过标准")
    assert rejected.status == ApplicationStatus.REJECTED
    with pytest.raises(ValidationError) as error:
        application_decide(by=officer, application=application, approve=True, reason="再议")
    assert "status" in error.value.message_dict
    # a rejected application does not block a new one
    assert apply(district_a, funded_project, household).status == ApplicationStatus.SUBMITTED


def test_approval_above_the_cap_is_refused(district_a, district_b, officer, funded_project, household):
    application = apply(district_a, funded_project, household)
    application_review(by=district_b, application=application, passed=True, reason="情况属实")
    with pytest.raises(ValidationError) as error:
        application_decide(by=officer, application=application, approve=True, reason="同意", approved_amount="501")
    assert "approved_amount" in error.value.message_dict


def test_an_open_duplicate_blocks_approval_until_the_reviewer_settles_it(
    district_a, district_b, officer, relief_reviewer, funded_project, household, east
):
    from relief.services.beneficiaries import beneficiary_duplicate_clear

    twin = register(district_a, east, name="王秀英", phone="13912345678")
    application = apply(district_a, funded_project, twin.beneficiary)
    application_review(by=district_b, application=application, passed=True, reason="情况属实")
    with pytest.raises(ValidationError) as error:
        application_decide(by=officer, application=application, approve=True, reason="同意")
    assert "beneficiary" in error.value.message_dict
    beneficiary_duplicate_clear(by=relief_reviewer, duplicate=twin.suspected_duplicates[0], reason="姐妹同名")
    assert application_decide(by=officer, application=application, approve=True, reason="同意").status == "approved"


def test_a_visit_is_required_by_the_project_kind(district_a, district_b, officer, city, clerk, finance, campaign, east):
    from tests.relief.conftest import fund

    project = make_project(officer, city, name="天使计划", kind="medical", cap_per_project="30000")
    fund(project, "30000.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    project_open(by=officer, project=project)
    child = register(district_a, east, name="刘小雨", kind="person", birth_date=datetime.date(2015, 6, 1),
                     illness="急性淋巴细胞白血病").beneficiary  # fmt: skip
    application = apply(district_a, project, child, documents=[("diagnosis", pdf())])
    with pytest.raises(ValidationError) as error:
        application_review(by=district_b, application=application, passed=True, reason="情况属实")
    assert "visits" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        visit_record(by=district_b, application=application, kind="follow_up", visited_on=timezone.localdate(),
                     findings="回访")  # fmt: skip
    assert "kind" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        visit_record(by=district_b, application=application, kind="assessment",
                     visited_on=timezone.localdate() + datetime.timedelta(days=3), findings="走访")  # fmt: skip
    assert "visited_on" in error.value.message_dict
    visit_record(by=district_b, application=application, kind="assessment", visited_on=timezone.localdate(),
                 findings="家中两间平房，父母务农")  # fmt: skip
    assert application_review(by=district_b, application=application, passed=True, reason="属实").status == "reviewed"


def test_referral_applications_are_forwarded_and_their_outcome_recorded(district_a, district_b, officer, city, east):
    project = make_project(officer, city, name="小天使基金", kind="medical", is_referral=True,
                           referral_body="中国红十字基金会", visit_required=False)  # fmt: skip
    project_open(by=officer, project=project)
    child = register(district_a, east, name="周小安", kind="person").beneficiary
    application = apply(district_a, project, child)
    application_review(by=district_b, application=application, passed=True, reason="符合条件")
    forwarded = application_decide(by=officer, application=application, approve=True, reason="转报中国红十字基金会")
    assert forwarded.status == ApplicationStatus.FORWARDED and forwarded.approved_amount is None
    with pytest.raises(ValidationError):
        application_referral_outcome(by=officer, application=application, outcome="maybe")
    done = application_referral_outcome(by=officer, application=application, outcome="granted", amount="30000")
    assert done.referral_outcome == "granted" and str(done.referral_amount) == "30000.00"


def test_documents_are_added_only_while_the_application_is_open(district_a, funded_project, household):
    application = apply(district_a, funded_project, household)
    application_document_add(by=district_a, application=application, kind="hardship", file=pdf("困难证明.pdf"))
    with pytest.raises(ValidationError) as error:
        application_document_add(by=district_a, application=application, kind="hardship",
                                 file=pdf("x.png", b"GIF89a"))  # fmt: skip
    assert "documents[0].file" in error.value.message_dict or "file" in error.value.message_dict
    assert application.documents.count() == 1


def test_district_scoping(west_staff, funded_project, household, district_a):
    with pytest.raises(PermissionDenied):
        apply(west_staff, funded_project, household)
    application = apply(district_a, funded_project, household)
    with pytest.raises(PermissionDenied):
        application_review(by=west_staff, application=application, passed=True, reason="x")


def test_three_people_helper(district_a, district_b, officer, funded_project, household):
    application = approved(funded_project, household, registrar=district_a, reviewer=district_b, decider=officer)
    assert application.status == "approved" and str(application.approved_amount) == "500.00"
