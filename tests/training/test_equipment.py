"""Equipment: batches under a funding line, schools and venues (示范校), distributions that never
take more than is in stock, signed receipts checked as evidence files, district scoping, admin."""

from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from tests.factories import StaffFactory
from training.models import (
    EquipmentBatch,
    EquipmentDistribution,
    EquipmentKind,
    EquipmentSite,
    FundingLine,
    SiteKind,
)
from training.selectors.equipment import holdings_by_site, site_holdings, stock_by_kind
from training.services.equipment import (
    distribution_receipt_attach,
    equipment_batch_register,
    equipment_distribute,
    equipment_site_save,
)
from training.services.plans import plan_funding_set, training_plan_create

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n%signed receipt\n"
TODAY = datetime.date.today


@pytest.fixture
def officer(branch_tree):
    return StaffFactory(branch=branch_tree["city"], roles=["training_officer"])


@pytest.fixture
def east_staff(branch_tree):
    return StaffFactory(branch=branch_tree["east"], roles=["district_staff"])


def _batch(branch, by, quantity=10, kind=EquipmentKind.MANIKIN, **extra):
    return equipment_batch_register(
        branch=branch, kind=kind, quantity=quantity, funding_line=FundingLine.LOTTERY,
        purchased_on=timezone.localdate() - datetime.timedelta(days=30), by=by, **extra,
    )  # fmt: skip


def _site(branch, by, name="东区一中", **extra):
    return equipment_site_save(branch=branch, name=name, by=by, **extra)


def _give(batch, site, by, quantity, **extra):
    return equipment_distribute(
        batch=batch, site=site, quantity=quantity, distributed_on=timezone.localdate(), received_by_name="周老师",
        by=by, **extra,
    )  # fmt: skip


def test_a_batch_under_a_plans_funding_line_takes_its_line(branch_tree, officer):
    plan = training_plan_create(branch=branch_tree["city"], year=timezone.localdate().year, title="计划", by=officer)
    funding = plan_funding_set(plan=plan, line=FundingLine.LOTTERY, budget="1830000", by=officer)
    batch = equipment_batch_register(
        branch=branch_tree["east"], kind=EquipmentKind.AED, quantity=25, funding=funding,
        purchased_on=timezone.localdate(), unit_price="18000.00", by=officer,
    )  # fmt: skip
    assert batch.funding_line == FundingLine.LOTTERY and batch.in_stock == 25
    assert batch.history.first().history_user == officer
    with pytest.raises(ValidationError) as excinfo:  # the line must agree with the plan's
        equipment_batch_register(
            branch=branch_tree["city"], kind=EquipmentKind.AED, quantity=1, funding=funding,
            funding_line=FundingLine.OWN_FUNDS, purchased_on=timezone.localdate(), by=officer,
        )  # fmt: skip
    assert "funding_line" in excinfo.value.message_dict


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", 0),
        ("quantity", -5),
        ("quantity", "十"),
        ("quantity", "9" * 40),
        ("quantity", 10_000_000),
        ("quantity", None),
        ("kind", "rocket"),
        ("funding_line", ""),
        ("unit_price", "12.345"),
        ("unit_price", "abc"),
        ("model_name", "x" * 10_000),
        ("model_name", "<script>alert(1)</script>"),
        ("purchased_on", "2020-02-30"),
    ],
)
def test_bad_batch_input_names_the_field_and_writes_nothing(branch_tree, officer, field, value):
    values = {
        "branch": branch_tree["city"], "kind": EquipmentKind.MANIKIN, "quantity": 10,
        "funding_line": FundingLine.LOTTERY, "purchased_on": timezone.localdate(), field: value,
    }  # fmt: skip
    with pytest.raises(ValidationError) as excinfo:
        equipment_batch_register(by=officer, **values)
    assert field in excinfo.value.message_dict
    assert not EquipmentBatch.objects.exists()


def test_a_purchase_dated_tomorrow_is_refused(branch_tree, officer):
    with pytest.raises(ValidationError) as excinfo:
        equipment_batch_register(
            branch=branch_tree["city"], kind=EquipmentKind.MANIKIN, quantity=1, funding_line=FundingLine.LOTTERY,
            purchased_on=timezone.localdate() + datetime.timedelta(days=1), by=officer,
        )  # fmt: skip
    assert "purchased_on" in excinfo.value.message_dict


def test_stock_is_never_distributed_below_zero(branch_tree, officer):
    batch = _batch(branch_tree["city"], officer, quantity=10)
    school = _site(branch_tree["east"], officer)
    _give(batch, school, officer, 7)
    with pytest.raises(ValidationError) as excinfo:
        _give(batch, school, officer, 4)
    assert "quantity" in excinfo.value.message_dict
    assert "尚余 3" in excinfo.value.message_dict["quantity"][0]
    _give(batch, school, officer, 3)
    batch.refresh_from_db()
    assert (batch.distributed, batch.in_stock) == (10, 0)
    with pytest.raises(ValidationError):
        _give(batch, school, officer, 1)
    assert EquipmentDistribution.objects.count() == 2
    assert stock_by_kind(branch_ids=None)[EquipmentKind.MANIKIN] == {"bought": 10, "distributed": 10, "in_stock": 0}


def test_the_database_refuses_a_batch_distributed_beyond_its_quantity(branch_tree, officer):
    batch = _batch(branch_tree["city"], officer, quantity=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        EquipmentBatch.objects.filter(pk=batch.pk).update(distributed=6)


def test_a_distribution_before_the_purchase_or_without_a_signer_is_refused(branch_tree, officer):
    batch = _batch(branch_tree["city"], officer)
    school = _site(branch_tree["east"], officer)
    with pytest.raises(ValidationError) as excinfo:
        equipment_distribute(
            batch=batch, site=school, quantity=1, received_by_name="周老师", by=officer,
            distributed_on=batch.purchased_on - datetime.timedelta(days=1),
        )  # fmt: skip
    assert "distributed_on" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        equipment_distribute(
            batch=batch, site=school, quantity=1, received_by_name=" ", by=officer, distributed_on=timezone.localdate()
        )  # fmt: skip
    assert "received_by_name" in excinfo.value.message_dict
    batch.refresh_from_db()
    assert batch.distributed == 0 and not EquipmentDistribution.objects.exists()


def test_signed_receipts_are_checked_evidence_files_set_once(branch_tree, officer):
    batch = _batch(branch_tree["city"], officer)
    school = _site(branch_tree["east"], officer)
    with pytest.raises(ValidationError) as excinfo:
        _give(batch, school, officer, 2, receipt_scan=SimpleUploadedFile("receipt.pdf", b"<html>not a pdf</html>"))
    assert "receipt_scan" in excinfo.value.message_dict
    batch.refresh_from_db()
    assert batch.distributed == 0
    given = _give(batch, school, officer, 2)
    distribution_receipt_attach(distribution=given, file=SimpleUploadedFile("receipt.pdf", PDF), by=officer)
    given.refresh_from_db()
    assert given.receipt_scan.name.startswith("training/receipts/")
    with pytest.raises(ValidationError) as excinfo:
        distribution_receipt_attach(distribution=given, file=SimpleUploadedFile("again.pdf", PDF), by=officer)
    assert "receipt_scan" in excinfo.value.message_dict


def test_what_each_place_holds_and_the_demonstration_schools(branch_tree, officer):
    manikins = _batch(branch_tree["city"], officer, quantity=290)
    kits = _batch(branch_tree["city"], officer, quantity=25, kind=EquipmentKind.FIRST_AID_KIT)
    school = _site(branch_tree["east"], officer, demonstration_since=2020)
    venue = _site(branch_tree["west"], officer, name="西区培训基地", kind=SiteKind.VENUE)
    _give(manikins, school, officer, 10)
    _give(manikins, school, officer, 2)
    _give(kits, school, officer, 3)
    _give(manikins, venue, officer, 40)
    assert site_holdings(school) == {"manikin": 12, "first_aid_kit": 3}
    assert holdings_by_site(branch_ids=None) == {
        school.pk: {"manikin": 12, "first_aid_kit": 3},
        venue.pk: {"manikin": 40},
    }
    assert holdings_by_site(branch_ids=None, demonstration_only=True) == {
        school.pk: {"manikin": 12, "first_aid_kit": 3}
    }
    assert school.is_demonstration_school and not venue.is_demonstration_school
    with pytest.raises(ValidationError) as excinfo:  # only a school can be a 示范校
        _site(branch_tree["west"], officer, name="某广场", kind=SiteKind.VENUE, demonstration_since=2021)
    assert "demonstration_since" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        _site(branch_tree["east"], officer, name="东区一中")
    assert "name" in excinfo.value.message_dict


def test_district_staff_distribute_only_within_their_subtree(branch_tree, officer, east_staff):
    city_batch = _batch(branch_tree["city"], officer)
    east_batch = _batch(branch_tree["east"], east_staff)
    east_school = _site(branch_tree["east_school"], east_staff, name="东区一中")
    west_school = _site(branch_tree["west"], officer, name="西区一中")
    with pytest.raises(PermissionDenied):
        _give(city_batch, east_school, east_staff, 1)  # the city's stock
    with pytest.raises(PermissionDenied):
        _give(east_batch, west_school, east_staff, 1)  # another district's school
    with pytest.raises(PermissionDenied):
        _site(branch_tree["west"], east_staff, name="西区二中")
    _give(east_batch, east_school, east_staff, 1)
    assert EquipmentDistribution.objects.count() == 1


# --- admin ----------------------------------------------------------------------------------------


def test_admin_adds_through_the_services_and_puts_refusals_on_the_field(client, branch_tree, officer):
    client.force_login(officer)
    today = timezone.localdate().isoformat()
    response = client.post(reverse("admin:training_equipmentbatch_add"), {
        "branch": branch_tree["city"].pk, "kind": "manikin", "quantity": "5", "funding_line": "lottery",
        "purchased_on": today, "model_name": "模拟人", "unit_price": "", "supplier": "", "note": "",
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    batch = EquipmentBatch.objects.get()
    response = client.post(reverse("admin:training_equipmentsite_add"), {
        "branch": branch_tree["east"].pk, "name": "东区一中", "kind": "school", "demonstration_since": "2020",
        "address": "", "contact_name": "", "contact_phone": "", "note": "",
        "distributions-TOTAL_FORMS": "0", "distributions-INITIAL_FORMS": "0",
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    site = EquipmentSite.objects.get()
    form = {
        "batch": batch.pk, "site": site.pk, "quantity": "6", "distributed_on": today, "received_by_name": "周老师",
        "note": "",
    }  # fmt: skip
    response = client.post(reverse("admin:training_equipmentdistribution_add"), form)
    assert response.status_code == 200
    assert "尚余 5" in str(response.context["adminform"].form.errors["quantity"])
    assert not EquipmentDistribution.objects.exists()
    form["quantity"] = "5"
    form["receipt_scan"] = SimpleUploadedFile("receipt.pdf", PDF)
    response = client.post(reverse("admin:training_equipmentdistribution_add"), form)
    assert response.status_code == 302, response.content.decode()[:3000]
    given = EquipmentDistribution.objects.get()
    assert given.history.first().history_user == officer
    page = client.get(reverse("admin:training_equipmentdistribution_change", args=[given.pk])).content.decode()
    assert "/media/" not in page
    download = client.get(reverse("admin:training_equipmentdistribution_file", args=[given.pk, "receipt_scan"]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    site_page = client.get(reverse("admin:training_equipmentsite_change", args=[site.pk])).content.decode()
    assert "心肺复苏模拟人" in site_page


def test_admin_lists_are_scoped_and_cost_a_fixed_number_of_queries(
    client, branch_tree, officer, east_staff, django_assert_max_num_queries
):
    batch = _batch(branch_tree["city"], officer, quantity=100)
    for n, branch in enumerate(["east", "west", "east_school", "west", "east"] * 3):
        site = _site(branch_tree[branch], officer, name=f"学校{n}", demonstration_since=2020)
        _give(batch, site, officer, 2)
    client.force_login(east_staff)
    page = client.get(reverse("admin:training_equipmentsite_changelist"))
    assert page.status_code == 200
    names = {site.name for site in page.context["cl"].result_list}
    assert names == {
        f"学校{n}" for n, b in enumerate(["east", "west", "east_school", "west", "east"] * 3) if b != "west"
    }
    for model in ("equipmentbatch", "equipmentsite", "equipmentdistribution"):
        client.force_login(officer)
        url = reverse(f"admin:training_{model}_changelist")
        client.get(url)  # warm the per-process caches
        # ~11 whatever the rows (filters, date hierarchy, session, user); one per row would pass 14
        with django_assert_max_num_queries(14):
            assert client.get(url).status_code == 200
    client.force_login(east_staff)
    distributions = client.get(reverse("admin:training_equipmentdistribution_changelist")).context["cl"].result_list
    assert {d.site.branch_id for d in distributions} <= {branch_tree["east"].pk, branch_tree["east_school"].pk}


# --- concurrency (PostgreSQL) ---------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_distributions_never_exceed_the_stock(branch_tree):
    """Twelve staff hand out 3 of a batch of 20 at the same moment: six succeed, six are refused
    with a clear message, and the batch ends with 2 left, never below zero."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent row locks are checked on PostgreSQL (CI runs the suite with DATABASE_URL)")
    officer = StaffFactory(branch=branch_tree["city"], roles=["training_officer"])
    batch = _batch(branch_tree["city"], officer, quantity=20)
    school = _site(branch_tree["east"], officer)
    barrier = threading.Barrier(12)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait(timeout=30)
            _give(batch, school, officer, 3)
            result = "ok"
        except ValidationError as exc:
            result = "refused" if "quantity" in exc.message_dict else repr(exc)
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["ok"] * 6 + ["refused"] * 6
    batch.refresh_from_db()
    assert (batch.distributed, batch.in_stock) == (18, 2)
    assert sum(EquipmentDistribution.objects.values_list("quantity", flat=True)) == 18
    assert Decimal(batch.quantity) == 20
