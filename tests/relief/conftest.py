"""Fixtures for the relief app: staff in their roles, projects funded through the real
allocation services (a directed gift to the project, paid and confirmed by two people)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import StaffFactory


@pytest.fixture
def city(branch_tree):
    return branch_tree["city"]


@pytest.fixture
def east(branch_tree):
    return branch_tree["east"]


@pytest.fixture
def officer(city):
    return StaffFactory(branch=city, roles=["relief_officer"], last_name="陈", first_name="立新")


@pytest.fixture
def officer2(city):
    return StaffFactory(branch=city, roles=["relief_officer"], last_name="许", first_name="文静")


@pytest.fixture
def relief_reviewer(city):
    return StaffFactory(branch=city, roles=["relief_reviewer"], last_name="吴", first_name="志刚")


@pytest.fixture
def district_a(east):
    return StaffFactory(branch=east, roles=["district_staff"], last_name="郑", first_name="海燕")


@pytest.fixture
def district_b(east):
    return StaffFactory(branch=east, roles=["district_staff"], last_name="冯", first_name="国强")


@pytest.fixture
def west_staff(branch_tree):
    return StaffFactory(branch=branch_tree["west"], roles=["district_staff"], last_name="韩", first_name="冬")


@pytest.fixture
def clerk(city):
    return StaffFactory(branch=city, roles=["donation_clerk"], last_name="林", first_name="晓雨")


@pytest.fixture
def finance(city):
    return StaffFactory(branch=city, roles=["finance_reviewer"], last_name="周", first_name="明远")


@pytest.fixture
def campaign(city):
    from tests.donations.factories import CampaignFactory

    return CampaignFactory(branch=city, name="测试博爱送温暖募捐", slug="test-warmth")


def make_project(by, branch, **overrides):
    from relief.services.projects import project_create

    arguments = {
        "by": by,
        "branch": branch,
        "name": "测试博爱送温暖",
        "kind": "winter",
        "purpose": "为困难家庭送去过冬物资和慰问金",
        "starts_on": timezone.localdate() - timedelta(days=30),
        "ends_on": timezone.localdate() + timedelta(days=60),
        "unit": "household",
    }
    arguments.update(overrides)
    return project_create(**arguments)


def directed_gift(clerk, finance, project, campaign, amount):
    """A confirmed cash gift whose donor named the project (定向)."""
    from donations.services.intake import donation_confirm, donation_register
    from tests.donations.factories import PersonDonorFactory

    donation = donation_register(
        by=clerk,
        branch=campaign.branch,
        donor=PersonDonorFactory(branch=campaign.branch),
        campaign=campaign,
        kind="cash",
        channel="bank",
        received_at=timezone.now() - timedelta(hours=2),
        amount=amount,
        designated_recipient=project.recipient,
    )
    return donation_confirm(donation=donation, by=finance)


def fund(project, amount, *, clerk, finance, campaign, by):
    """Money into the project the way it really comes: a directed gift, its allocation (拨付) to the
    project's recipient registered by the clerk and confirmed by the finance reviewer, counted."""
    from donations.services.allocations import allocation_confirm, allocation_register_cash
    from relief.services.projects import project_funding_add

    donation = directed_gift(clerk, finance, project, campaign, amount)
    allocation = allocation_register_cash(
        by=clerk,
        campaign=campaign,
        recipient=project.recipient,
        amount=Decimal(amount),
        allocated_on=timezone.localdate(),
        directed_donation=donation,
    )
    allocation = allocation_confirm(allocation=allocation, by=finance)
    project_funding_add(by=by, project=project, allocation=allocation)
    return allocation


@pytest.fixture
def funded_project(officer, city, clerk, finance, campaign):
    from relief.services.projects import project_open

    project = make_project(officer, city, cap_per_project="500.00", cap_per_year="800.00")
    fund(project, "10000.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    return project_open(by=officer, project=project)


def cn_id(birth: str, serial: int) -> str:
    """A valid 居民身份证号码 (GB 11643 check digit) born on ``birth`` (YYYYMMDD)."""
    from stdnum.cn import ric

    body = f"110105{birth}{serial:03d}"
    return body + ric.calc_check_digit(body + "0")


def register(by, branch, name="王秀英", **overrides):
    from relief.services.beneficiaries import beneficiary_find_or_register

    arguments = {"by": by, "branch": branch, "kind": "household", "name": name}
    arguments.update(overrides)
    return beneficiary_find_or_register(**arguments)


PDF = b"%PDF-1.4\n%test\n"


def pdf(name="诊断证明.pdf", content=PDF):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/pdf")


def apply(by, project, beneficiary, **overrides):
    from relief.services.applications import application_register

    arguments = {"by": by, "project": project, "beneficiary": beneficiary, "situation": "家庭困难，冬季缺少取暖物资"}
    arguments.update(overrides)
    return application_register(**arguments)


def approved(project, beneficiary, *, registrar, reviewer, decider, amount=None):
    """An application registered, reviewed and approved by three different people."""
    from relief.services.applications import application_decide, application_review

    application = apply(registrar, project, beneficiary)
    application_review(by=reviewer, application=application, passed=True, reason="情况属实")
    return application_decide(by=decider, application=application, approve=True, reason="同意", approved_amount=amount)
