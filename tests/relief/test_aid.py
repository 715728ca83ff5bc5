"""Disbursements (issue 15, step 4): cash by transfer or with two signatures, goods from the
project's transfer orders, no double aid, caps, never beyond the project's funds (also under
concurrent disbursements on PostgreSQL), follow-up visits, 博爱家园 shares and dividends."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.utils import timezone

from redcross.signoff import DualSignatureRequired
from relief.models import Aid, AidStatus, Project
from relief.selectors.books import project_books
from relief.services.aid import (
    aid_cancel,
    aid_confirm,
    aid_disburse,
    aid_disburse_batch,
    livelihood_dividends_pay,
    livelihood_share_record,
)
from relief.services.applications import visit_record
from relief.services.projects import project_open
from tests.factories import StaffFactory
from tests.relief.conftest import approved, cn_id, fund, make_project, pdf, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(district_a, district_b, officer):
    return {"registrar": district_a, "reviewer": district_b, "decider": officer}


def household(by, east, index: int):
    return register(by, east, name="测试户" + "甲乙丙丁戊己庚辛壬癸"[index % 10] + "子丑寅卯辰巳午未申酉"[index // 10],
                    id_number=cn_id("19700101", index + 1)).beneficiary  # fmt: skip


def test_a_bank_transfer_pays_the_approved_amount_and_moves_the_books(district_a, people, funded_project, east):
    application = approved(funded_project, household(district_a, east, 0), **people, amount="300")
    aid = aid_disburse(by=district_a, application=application, method="bank", voucher_number="ZZ20260001",
                       receipt_scan=pdf("签收.pdf"))  # fmt: skip
    assert aid.status == AidStatus.PAID and aid.amount == Decimal("300.00") and aid.receipt_scan
    funded_project.refresh_from_db()
    assert funded_project.paid_out == Decimal("300.00") and funded_project.cash_balance == Decimal("9700.00")
    books = project_books(funded_project)
    assert books.is_balanced and books.funds_in == books.paid_out + books.goods_out + books.balance
    assert aid.history.first().history_user == district_a


def test_no_double_aid_in_a_project_period(district_a, people, funded_project, east):
    beneficiary = household(district_a, east, 0)
    application = approved(funded_project, beneficiary, **people, amount="100")
    aid_disburse(by=district_a, application=application, method="bank", voucher_number="V1")
    with pytest.raises(ValidationError) as error:
        aid_disburse(by=district_a, application=application, method="bank", voucher_number="V2")
    assert "beneficiary" in error.value.message_dict
    assert Aid.objects.count() == 1


def test_caps_per_project_and_per_year_are_enforced_in_the_service(
    district_a, people, funded_project, officer, city, clerk, finance, campaign, east
):
    beneficiary = household(district_a, east, 0)
    application = approved(funded_project, beneficiary, **people, amount="500")
    with pytest.raises(ValidationError) as error:  # above the approved amount (and the cap)
        aid_disburse(by=district_a, application=application, method="bank", voucher_number="V", amount="501")
    assert "amount" in error.value.message_dict
    aid_disburse(by=district_a, application=application, method="bank", voucher_number="V")
    second = make_project(officer, city, name="暖冬行动", cap_per_year="800.00")
    fund(second, "5000.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    project_open(by=officer, project=second)
    again = approved(second, beneficiary, **people, amount="400")
    with pytest.raises(ValidationError) as error:  # 500 this year already: 500 + 400 > 800
        aid_disburse(by=district_a, application=again, method="bank", voucher_number="V")
    assert "年度限额" in str(error.value.message_dict["amount"])
    assert aid_disburse(by=district_a, application=again, method="bank", voucher_number="V", amount="300").amount == (
        Decimal("300.00")
    )


def test_a_project_never_pays_beyond_its_funds(district_a, people, officer, city, clerk, finance, campaign, east):
    project = make_project(officer, city, cap_per_project="500")
    fund(project, "700.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    project_open(by=officer, project=project)
    first = approved(project, household(district_a, east, 0), **people, amount="500")
    second = approved(project, household(district_a, east, 1), **people, amount="500")
    aid_disburse(by=district_a, application=first, method="bank", voucher_number="V")
    with pytest.raises(ValidationError, match="项目资金不足"):
        aid_disburse(by=district_a, application=second, method="bank", voucher_number="V")
    project.refresh_from_db()
    assert project.paid_out == Decimal("500.00")


def test_cash_in_hand_needs_a_second_signature_and_can_be_cancelled_before(
    district_a, district_b, people, funded_project, east
):
    application = approved(funded_project, household(district_a, east, 0), **people, amount="200")
    aid = aid_disburse(by=district_a, application=application, method="cash")
    assert aid.status == AidStatus.REGISTERED
    with pytest.raises(DualSignatureRequired):
        aid_confirm(by=district_a, aid=aid)
    other = approved(funded_project, household(district_a, east, 1), **people, amount="200")
    pending = aid_disburse(by=district_a, application=other, method="cash")
    aid_cancel(by=district_a, aid=pending, reason="受助人未到场")
    signed = aid_confirm(by=district_b, aid=aid)
    assert signed.status == AidStatus.PAID and signed.confirmed_by == district_b
    with pytest.raises(ValidationError):
        aid_cancel(by=district_a, aid=signed, reason="x")
    funded_project.refresh_from_db()
    assert funded_project.paid_out == Decimal("200.00") and project_books(funded_project).is_balanced


def test_bad_input_names_the_field_and_writes_nothing(district_a, people, funded_project, east, west_staff):
    application = approved(funded_project, household(district_a, east, 0), **people, amount="200")
    for kwargs, field in (
        ({"method": "bank"}, "voucher_number"),
        ({"method": "cheque"}, "method"),
        ({"method": "bank", "voucher_number": "V", "amount": "-1"}, "amount"),
        ({"method": "bank", "voucher_number": "V", "disbursed_on": timezone.localdate() + timedelta(days=2)},
         "disbursed_on"),
        ({"method": "bank", "voucher_number": "V", "receipt_scan": pdf("x.pdf", b"MZ\x90")}, "receipt_scan"),
        ({"method": "goods", "goods": []}, "goods"),
    ):  # fmt: skip
        with pytest.raises(ValidationError) as error:
            aid_disburse(by=district_a, application=application, **kwargs)
        assert field in error.value.message_dict, kwargs
    with pytest.raises(PermissionDenied):
        aid_disburse(by=west_staff, application=application, method="bank", voucher_number="V")
    assert Aid.objects.count() == 0
    funded_project.refresh_from_db()
    assert funded_project.paid_out == 0


def test_an_application_not_approved_gets_nothing(district_a, funded_project, east):
    from tests.relief.conftest import apply

    application = apply(district_a, funded_project, household(district_a, east, 0))
    with pytest.raises(ValidationError) as error:
        aid_disburse(by=district_a, application=application, method="bank", voucher_number="V")
    assert "application" in error.value.message_dict


def test_follow_up_visits_after_aid(district_a, district_b, people, funded_project, east):
    application = approved(funded_project, household(district_a, east, 0), **people, amount="100")
    aid_disburse(by=district_a, application=application, method="bank", voucher_number="V")
    visit = visit_record(by=district_b, application=application, kind="follow_up", visited_on=timezone.localdate(),
                         findings="棉被已收到，家中温暖")  # fmt: skip
    assert visit.kind == "follow_up"


def test_goods_come_from_the_projects_transfer_order_and_the_warehouse_books_stay_right(
    district_a, people, officer, city, clerk, finance, campaign, east
):
    from donations.models import StockMovement
    from donations.selectors.books import campaign_books
    from donations.services.allocations import allocation_confirm, allocation_register_goods
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
        items=[{"name": "棉被", "quantity": "100", "unit": "床", "unit_value": "160.00", "value_basis": "invoice"}],
    )  # fmt: skip
    gift = donation_confirm(donation=gift, by=finance)
    lot = gift.items.get()
    stock_movement_confirm(movement=stock_in_check(by=keeper_a, item=lot, warehouse=warehouse, counted_quantity="100",
                                                   condition="完好"), by=keeper_b)  # fmt: skip
    project = make_project(officer, city, name="博爱送温暖", cap_per_project="400")
    from donations.models import AllocationPlan  # noqa: F401  (goods of an undirected gift go by plan)
    from donations.services.allocations import allocation_plan_register

    plan = allocation_plan_register(
        by=finance if finance.has_perm("donations.add_allocationplan") else clerk, branch=city,
        document_number="测红〔2026〕1号", title="博爱送温暖物资分配方案", issuing_body="测试市红十字会",
        issued_on=timezone.localdate(),
        lines=[{"kind": "in_kind", "campaign": campaign, "recipient": project.recipient, "item_name": "棉被",
                "quantity": "100", "unit": "床"}],
    )  # fmt: skip
    order = allocation_register_goods(
        by=keeper_a, campaign=campaign, recipient=project.recipient, allocated_on=timezone.localdate(),
        lines=[{"item": lot, "warehouse": warehouse, "quantity": "100"}], plan_line=plan.lines.get(),
    )  # fmt: skip
    order = allocation_confirm(allocation=order, by=keeper_b)
    project_funding_add(by=officer, project=project, allocation=order)
    project = project_open(by=officer, project=project)
    project.refresh_from_db()
    assert project.funds_in_goods == Decimal("16000.00")
    source = order.sources.get()
    application = approved(project, household(district_a, east, 0), **people, amount="320")
    aid = aid_disburse(by=district_a, application=application, method="goods",
                       goods=[{"source": source, "quantity": "2"}])  # fmt: skip
    assert aid.goods_value == Decimal("320.00") and aid.amount == 0
    too_many = approved(project, household(district_a, east, 1), **people, amount="400")
    with pytest.raises(ValidationError) as error:
        aid_disburse(by=district_a, application=too_many, method="goods", goods=[{"source": source, "quantity": "3"}])
    assert "amount" in error.value.message_dict  # 480 yuan of quilts above the cap of 400
    project.refresh_from_db()
    assert project.goods_out == Decimal("320.00") and project_books(project).is_balanced
    # the warehouse: 100 in, 100 out by the two keepers' transfer order; the campaign's books balance
    assert sum(m.quantity for m in StockMovement.objects.filter(item=lot, status="confirmed")) == 0
    assert campaign_books(campaign, city).is_balanced


def test_a_batch_pays_approved_households_and_lists_the_refused(district_a, people, funded_project, east):
    applications = [approved(funded_project, household(district_a, east, i), **people, amount="400") for i in range(4)]
    aid_disburse(by=district_a, application=applications[0], method="bank", voucher_number="V")
    result = aid_disburse_batch(by=district_a, project=funded_project, applications=applications,
                                voucher_number="PL2026-01")  # fmt: skip
    assert result.done == 3 and list(result.refused) == [applications[0].number]
    funded_project.refresh_from_db()
    assert funded_project.paid_out == Decimal("1600.00") and project_books(funded_project).is_balanced
    assert Aid.history.filter(history_user=district_a).count() == 4


def test_livelihood_shares_and_dividends_per_household_and_year(
    district_a, people, officer, city, clerk, finance, campaign, east
):
    project = make_project(officer, city, name="博爱家园", kind="livelihood", visit_required=False)
    fund(project, "37200.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    project_open(by=officer, project=project)
    homes = [household(district_a, east, i) for i in range(3)]
    for home in homes:
        approved(project, home, **people, amount="1")
    for home, shares in zip(homes, ("1", "1", "1"), strict=True):
        livelihood_share_record(by=officer, project=project, beneficiary=home, year=2025, shares=shares)
    aids = livelihood_dividends_pay(by=officer, project=project, year=2025, total="1000.00", voucher_number="FH1")
    assert sorted(a.amount for a in aids) == [Decimal("333.33"), Decimal("333.33"), Decimal("333.34")]
    with pytest.raises(ValidationError) as error:
        livelihood_dividends_pay(by=officer, project=project, year=2025, total="1.00", voucher_number="FH2")
    assert "year" in error.value.message_dict
    project.refresh_from_db()
    assert project.paid_out == Decimal("1000.00") and project_books(project).is_balanced
    with pytest.raises(ValidationError):
        livelihood_share_record(by=officer, project=project, beneficiary=homes[0], year=2025, shares="-2")


# --- concurrency on PostgreSQL -----------------------------------------------------------------


def _run_threads(count, target):
    barrier = threading.Barrier(count)
    errors, done = [], []

    def run(index):
        try:
            barrier.wait(timeout=30)
            done.append(target(index))
        except ValidationError as exc:
            errors.append(exc)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return done, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_disbursements_never_exceed_the_funds_or_pay_twice(branch_tree):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent disbursements are checked on PostgreSQL (SQLite serialises whole transactions)")
    from tests.donations.factories import CampaignFactory

    city, east = branch_tree["city"], branch_tree["east"]
    officer = StaffFactory(branch=city, roles=["relief_officer"])
    a, b = (StaffFactory(branch=east, roles=["district_staff"]) for _ in range(2))
    clerk = StaffFactory(branch=city, roles=["donation_clerk"])
    finance = StaffFactory(branch=city, roles=["finance_reviewer"])
    campaign = CampaignFactory(branch=city)
    project = make_project(officer, city, cap_per_project="500", cap_per_year="500")
    fund(project, "2500.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    project_open(by=officer, project=project)
    roles = {"registrar": a, "reviewer": b, "decider": officer}
    applications = [approved(project, household(a, east, i), **roles, amount="500") for i in range(20)]

    # 20 households at once, funds for 5
    done, errors = _run_threads(20, lambda i: aid_disburse(by=a, application=applications[i], method="bank",
                                                           voucher_number=f"V{i}").pk)  # fmt: skip
    assert len(done) == 5 and len(errors) == 15
    assert all(isinstance(e, ValidationError) and "项目资金不足" in str(e) for e in errors)
    project = Project.objects.get(pk=project.pk)
    assert project.paid_out == Decimal("2500.00") and project_books(project).is_balanced

    # 20 concurrent payments of one approved application (another project with money): one only
    second = make_project(officer, city, name="第二个项目", cap_per_project="500", cap_per_year="500")
    fund(second, "10000.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    project_open(by=officer, project=second)
    fresh = household(a, east, 30)
    application = approved(second, fresh, **roles, amount="100")
    done, errors = _run_threads(20, lambda i: aid_disburse(by=a, application=application, method="bank",
                                                           voucher_number=f"W{i}").pk)  # fmt: skip
    assert len(done) == 1 and len(errors) == 19
    assert Aid.objects.filter(project=second).count() == 1
    # the yearly cap across projects under concurrency: the 5 paid households are at 500 already
    paid = Aid.objects.filter(project=project).values_list("beneficiary_id", flat=True)
    again = [
        approved(second, app.beneficiary, **roles, amount="100") for app in applications if app.beneficiary_id in paid
    ]
    done, errors = _run_threads(len(again), lambda i: aid_disburse(by=a, application=again[i], method="bank",
                                                                   voucher_number="X").pk)  # fmt: skip
    assert done == [] and all("年度限额" in str(e) for e in errors)
