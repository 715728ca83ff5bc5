"""Relief projects (issue 15, step 1): registration, funding by confirmed allocations only,
the status life cycle with a final account, referral projects with no money."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from donations.services.allocations import allocation_register_cash
from relief.models import Project, ProjectFunding, ProjectStatus
from relief.selectors.books import project_books
from relief.services.projects import (
    project_close,
    project_create,
    project_funding_add,
    project_fundings_collect,
    project_open,
    project_update,
)
from tests.donations.factories import RecipientFactory
from tests.relief.conftest import directed_gift, fund, make_project

pytestmark = pytest.mark.django_db


def test_a_project_gets_a_code_its_own_recipient_unit_and_starts_planned(officer, city):
    project = make_project(officer, city)
    assert project.status == ProjectStatus.PLANNED
    assert project.code.startswith(f"{city.code}JZ{project.starts_on.year}-")
    assert project.recipient is not None and project.recipient.kind == "household_group"
    assert project.history.first().history_user == officer


def test_visit_required_follows_the_kind_unless_set(officer, city):
    assert make_project(officer, city, kind="medical").visit_required is True
    assert make_project(officer, city, kind="winter").visit_required is False
    assert make_project(officer, city, kind="winter", visit_required=True).visit_required is True


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "很" * 121}, "name"),
        ({"kind": "lottery"}, "kind"),
        ({"unit": "village"}, "unit"),
        ({"purpose": ""}, "purpose"),
        ({"starts_on": "2026-13-01"}, "starts_on"),
        ({"ends_on": timezone.localdate() - timedelta(days=400)}, "ends_on"),
        ({"budget": "-5"}, "budget"),
        ({"cap_per_project": "abc"}, "cap_per_project"),
        ({"cap_per_year": "1e20"}, "cap_per_year"),
        ({"name": "A\x00B"}, "name"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(officer, city, overrides, field):
    before = Project.objects.count()
    with pytest.raises(ValidationError) as error:
        make_project(officer, city, **overrides)
    assert field in error.value.message_dict
    assert Project.objects.count() == before


def test_only_relief_staff_of_the_branch_register_projects(clerk, west_staff, city, east):
    with pytest.raises(PermissionDenied):
        make_project(clerk, city)
    with pytest.raises(PermissionDenied):
        make_project(west_staff, east)  # another district


def test_referral_projects_have_no_recipient_and_no_money(officer, city, clerk, finance, campaign):
    project = make_project(officer, city, name="小天使基金", kind="medical", is_referral=True,
                           referral_body="中国红十字基金会")  # fmt: skip
    assert project.recipient is None
    with pytest.raises(ValidationError) as error:
        make_project(officer, city, is_referral=True, referral_body="中国红十字基金会", budget="1000")
    assert "is_referral" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        make_project(officer, city, is_referral=True)
    assert "referral_body" in error.value.message_dict
    other = make_project(officer, city)
    allocation = fund(other, "100.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    with pytest.raises(ValidationError) as error:
        project_funding_add(by=officer, project=project, allocation=allocation)
    assert "allocation" in error.value.message_dict


def test_funding_counts_confirmed_allocations_to_the_projects_recipient(officer, city, clerk, finance, campaign):
    project = make_project(officer, city)
    fund(project, "1200.50", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    fund(project, "300.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    project.refresh_from_db()
    assert project.funds_in_cash == Decimal("1500.50")
    assert ProjectFunding.objects.filter(project=project).count() == 2
    books = project_books(project)
    assert books.is_balanced and books.funds_in == Decimal("1500.50") == books.balance


def test_an_unconfirmed_or_foreign_allocation_is_refused(officer, city, clerk, finance, campaign):
    project = make_project(officer, city)
    donation = directed_gift(clerk, finance, project, campaign, "200.00")
    pending = allocation_register_cash(by=clerk, campaign=campaign, recipient=project.recipient, amount="200.00",
                                       allocated_on=timezone.localdate(), directed_donation=donation)  # fmt: skip
    with pytest.raises(ValidationError, match="尚未复核"):
        project_funding_add(by=officer, project=project, allocation=pending)
    other = make_project(officer, city, name="另一个项目")
    foreign = fund(other, "50.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    with pytest.raises(ValidationError, match="受赠单位不是本项目"):
        project_funding_add(by=officer, project=project, allocation=foreign)
    with pytest.raises(ValidationError, match="已计入项目"):
        project_funding_add(by=officer, project=other, allocation=foreign)
    project.refresh_from_db()
    assert project.funds_in_cash == 0


def test_a_directed_gift_funds_only_the_project_the_donor_named(officer, city, clerk, finance, campaign):
    named = make_project(officer, city, name="阳光助学")
    other = make_project(officer, city, name="暖冬行动")
    donation = directed_gift(clerk, finance, named, campaign, "600.00")
    with pytest.raises(ValidationError) as error:
        allocation_register_cash(by=clerk, campaign=campaign, recipient=other.recipient, amount="600.00",
                                 allocated_on=timezone.localdate(), directed_donation=donation)  # fmt: skip
    assert "recipient" in error.value.message_dict
    hospital = RecipientFactory(branch=city)
    with pytest.raises(ValidationError):
        allocation_register_cash(by=clerk, campaign=campaign, recipient=hospital, amount="600.00",
                                 allocated_on=timezone.localdate(), directed_donation=donation)  # fmt: skip


def test_collect_counts_every_confirmed_allocation_not_counted_yet(officer, city, clerk, finance, campaign):
    from donations.services.allocations import allocation_confirm

    project = make_project(officer, city)
    for amount in ("10.00", "20.00"):
        donation = directed_gift(clerk, finance, project, campaign, amount)
        allocation = allocation_register_cash(by=clerk, campaign=campaign, recipient=project.recipient,
                                              amount=amount, allocated_on=timezone.localdate(),
                                              directed_donation=donation)  # fmt: skip
        allocation_confirm(allocation=allocation, by=finance)
    assert project_books(project).discrepancies  # money sent to the project but not counted
    assert len(project_fundings_collect(by=officer, project=project)) == 2
    assert project_fundings_collect(by=officer, project=project) == []
    assert project_books(project).is_balanced


def test_status_moves_planned_open_closed_with_a_final_account(officer, city, clerk, finance, campaign):
    project = make_project(officer, city)
    with pytest.raises(ValidationError):
        project_close(by=officer, project=project)  # not open yet
    fund(project, "800.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    project = project_open(by=officer, project=project)
    with pytest.raises(ValidationError):
        project_open(by=officer, project=project)
    with pytest.raises(ValidationError) as error:
        project_close(by=officer, project=project)  # a balance must be explained
    assert "note" in error.value.message_dict
    project = project_close(by=officer, project=project, note="结余 800 元转入暖冬行动")
    assert project.status == ProjectStatus.CLOSED
    assert project.final_account["funds_in"] == "800.00" and project.final_account["balance"] == "800.00"
    with pytest.raises(ValidationError):
        project_update(by=officer, project=project, name="x", purpose="y", starts_on=project.starts_on,
                       ends_on=project.ends_on)  # fmt: skip
    other = make_project(officer, city, name="新项目")
    allocation = fund(other, "5.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    with pytest.raises(ValidationError):
        project_funding_add(by=officer, project=project, allocation=allocation)


def test_update_changes_caps_and_is_audited(officer, officer2, city):
    project = make_project(officer, city)
    project = project_update(by=officer2, project=project, name="测试博爱送温暖（二期）", purpose="送温暖",
                             starts_on=project.starts_on, ends_on=project.ends_on, cap_per_project="300")  # fmt: skip
    assert project.cap_per_project == Decimal("300.00")
    assert project.history.first().history_user == officer2


def test_district_staff_of_another_branch_cannot_fund_or_open(officer, city, west_staff, clerk, finance, campaign):
    project = make_project(officer, city)
    with pytest.raises(PermissionDenied):
        project_open(by=west_staff, project=project)


def test_project_create_is_not_half_written_when_the_code_sequence_is_taken(officer, city):
    # the recipient unit and the project are written together
    from donations.models import Recipient

    before = Recipient.objects.count()
    with pytest.raises(ValidationError):
        project_create(by=officer, branch=city, name="x", kind="winter", purpose="", starts_on=timezone.localdate(),
                       ends_on=timezone.localdate())  # fmt: skip
    assert Recipient.objects.count() == before


def test_a_district_registers_its_own_projects(district_a, east):
    project = make_project(district_a, east, name="东区暖冬")
    assert project.branch == east and project.recipient.branch == east


def test_the_nightly_check_records_each_projects_books(officer, city, clerk, finance, campaign):
    from relief.models import BooksCheck
    from relief.tasks import relief_books_nightly_task

    project = make_project(officer, city)
    fund(project, "100.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    assert relief_books_nightly_task.delay().get() == 0
    check = BooksCheck.objects.get(project=project)
    assert check.is_balanced and check.figures["funds_in"] == "100.00"
    Project.objects.filter(pk=project.pk).update(paid_out=Decimal("1.00"))  # a total written behind the services
    assert relief_books_nightly_task.delay().get() == 1
    assert "已发放资金" in BooksCheck.objects.filter(project=project).first().discrepancies[0]
