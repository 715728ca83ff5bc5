"""The staff API of allocations, recipients' sign-off, the warehouse and the books: each write
goes through its service, bad input is a 400 naming the field, the two-person rules and the
wrong role are 403s, and district staff see only their branch."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from donations.models import Allocation, AllocationStatus, StockMovement
from donations.services.allocations import allocation_plan_register
from donations.services.intake import donation_confirm, donation_register
from donations.services.warehouse import stock_in_check, stock_movement_confirm
from tests.donations.factories import (
    AllocationRowFactory,
    DonationItemFactory,
    PersonDonorFactory,
    RecipientFactory,
    StockMovementRowFactory,
    WarehouseFactory,
)
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def keeper1(city):
    return StaffFactory(branch=city, roles=["warehouse_keeper"])


@pytest.fixture
def keeper2(city):
    return StaffFactory(branch=city, roles=["warehouse_keeper"])


@pytest.fixture
def world(city, campaign, clerk, reviewer):
    hospital = RecipientFactory(branch=city, name="测试市第一人民医院")
    now = timezone.now()
    for hours, amount in ((30, "300.00"), (20, "500.00"), (10, "1000.00")):  # the undirected pool, oldest first
        donation = donation_register(
            by=clerk, branch=city, donor=PersonDonorFactory(branch=city), campaign=campaign, kind="cash",
            channel="bank", received_at=now - timedelta(hours=hours), amount=amount,
        )  # fmt: skip
        donation_confirm(donation=donation, by=reviewer)
    lot = DonationItemFactory(
        donation__branch=city, donation__campaign=campaign, donation__status="confirmed", name="医用外科口罩",
        unit="盒", quantity="100",
    )  # fmt: skip
    plan = allocation_plan_register(
        by=clerk, branch=city, document_number="测防控指〔2026〕1号", title="第一批分配方案",
        issuing_body="测试市防控指挥部", issued_on=timezone.localdate() - timedelta(days=2),
        lines=[
            {"kind": "cash", "campaign": campaign, "recipient": hospital, "amount": "1500.00"},
            {"kind": "in_kind", "campaign": campaign, "recipient": hospital, "item_name": "医用外科口罩",
             "quantity": "60", "unit": "盒"},
        ],
    )  # fmt: skip
    cash_line, goods_line = plan.lines.order_by("id")
    return {
        "hospital": hospital, "lot": lot, "cash_line": cash_line, "goods_line": goods_line,
        "main": WarehouseFactory(branch=city, name="测试主仓库"),
        "spare": WarehouseFactory(branch=city, name="备用仓库"),
    }  # fmt: skip


def _post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def _cash_payload(campaign, world, overrides=None):
    return {
        "campaign": campaign.pk, "recipient": world["hospital"].pk, "amount": "450.00",
        "allocated_on": timezone.localdate().isoformat(), "plan_line": world["cash_line"].pk, **(overrides or {}),
    }  # fmt: skip


# --- cash: plan, register, two signatures, sign-off --------------------------------------------


def test_plan_create_and_list(client, clerk, city, campaign, world):
    client.force_login(clerk)
    payload = {
        "branch": city.pk, "document_number": "测防控指〔2026〕2号", "title": "第二批", "issuing_body": "指挥部",
        "issued_on": timezone.localdate().isoformat(),
        "lines": [{"kind": "cash", "campaign": campaign.pk, "recipient": world["hospital"].pk, "amount": "100.00"}],
    }  # fmt: skip
    response = _post(client, "/api/allocation-plans/", payload)
    assert response.status_code == 201, response.content
    assert response.json()["lines"][0]["amount"] == "100.00"
    response = _post(client, "/api/allocation-plans/", payload)
    assert response.status_code == 400 and "document_number" in response.json()
    response = _post(client, "/api/allocation-plans/", {**payload, "document_number": "3号", "lines": []})
    assert response.status_code == 400 and "lines" in response.json()
    listed = client.get("/api/allocation-plans/").json()["results"]
    assert {p["document_number"] for p in listed} == {"测防控指〔2026〕1号", "测防控指〔2026〕2号"}


def test_cash_allocation_flow(client, clerk, reviewer, campaign, world):
    client.force_login(clerk)
    response = _post(client, "/api/allocations/cash/", _cash_payload(campaign, world))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "registered" and body["basis"] == "plan"
    assert [s["amount"] for s in body["sources"]] == ["300.00", "150.00"]  # first in, first out
    allocation_id = body["id"]

    clerk.user_permissions.add(Permission.objects.get(codename="confirm_allocation"))
    response = _post(client, f"/api/allocations/{allocation_id}/confirm/")
    assert response.status_code == 403
    assert "双人双签" in response.json()["detail"]

    client.force_login(reviewer)
    response = _post(client, f"/api/allocations/{allocation_id}/confirm/")
    assert response.status_code == 200 and response.json()["status"] == "confirmed"
    assert _post(client, f"/api/allocations/{allocation_id}/confirm/").status_code == 400

    client.force_login(clerk)
    signed_at = (timezone.now() - timedelta(hours=1)).isoformat()
    response = _post(
        client, "/api/recipient-confirmations/",
        {"allocation": allocation_id, "signed_by_name": "医院财务科", "signed_at": signed_at, "amount_received": "999"},
    )  # fmt: skip
    assert response.status_code == 400 and "amount_received" in response.json()
    response = _post(
        client, "/api/recipient-confirmations/",
        {"allocation": allocation_id, "signed_by_name": "医院财务科", "signed_at": signed_at},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    assert response.json()["amount_received"] == "450.00"
    listed = client.get("/api/allocations/", {"status": "confirmed", "kind": "cash"}).json()["results"]
    assert [(a["id"], a["has_recipient_confirmation"]) for a in listed] == [(allocation_id, True)]
    assert client.get("/api/allocations/", {"status": "cancelled"}).json()["results"] == []


def test_cancel_needs_a_reason_and_only_before_confirmation(client, clerk, reviewer, campaign, world):
    client.force_login(clerk)
    first = _post(client, "/api/allocations/cash/", _cash_payload(campaign, world)).json()["id"]
    response = _post(client, f"/api/allocations/{first}/cancel/")
    assert response.status_code == 400 and "reason" in response.json()
    response = _post(client, f"/api/allocations/{first}/cancel/", {"reason": "收款账户有误"})
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    second = _post(client, "/api/allocations/cash/", _cash_payload(campaign, world)).json()["id"]
    client.force_login(reviewer)
    _post(client, f"/api/allocations/{second}/confirm/")
    client.force_login(clerk)
    response = _post(client, f"/api/allocations/{second}/cancel/", {"reason": "晚了"})
    assert response.status_code == 400 and "status" in response.json()
    # the cancelled draw went back to the pool: the second one took the same first donation
    assert Allocation.objects.get(pk=second).sources.first().amount == Decimal("300.00")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": None}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "1e30"}, "amount"),
        ({"amount": "9" * 33}, "amount"),
        ({"amount": "100000000000.00"}, "amount"),
        ({"amount": "5000.00"}, "amount"),  # more than the plan line and the pool
        ({"allocated_on": "2999-01-01"}, "allocated_on"),
        ({"allocated_on": "not a date"}, "allocated_on"),
        ({"recipient": "x"}, "recipient"),
        ({"recipient": 424242}, "recipient"),
        ({"campaign": None}, "campaign"),
        ({"plan_line": 424242}, "plan_line"),
        ({"plan_line": None}, "plan_line"),
        ({"voucher_number": "V" * 61}, "voucher_number"),
    ],
)
def test_cash_bad_input_is_a_400_naming_the_field(client, clerk, campaign, world, overrides, field):
    client.force_login(clerk)
    response = _post(client, "/api/allocations/cash/", _cash_payload(campaign, world, overrides))
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Allocation.objects.exists()


# --- goods: stock-in, two keepers, transfer order, transfers, adjustments ---------------------------


def test_goods_flow_with_two_keepers(client, keeper1, keeper2, campaign, world):
    lot, main, spare = world["lot"], world["main"], world["spare"]
    client.force_login(keeper1)
    response = _post(
        client, "/api/stock-movements/stock-in/",
        {"item": lot.pk, "warehouse": main.pk, "counted_quantity": "98", "condition": "2 盒破损"},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    stock_in = response.json()[0]
    assert stock_in["status"] == "pending" and stock_in["shortfall_quantity"] == "2.000"
    response = _post(client, f"/api/stock-movements/{stock_in['id']}/sign/")
    assert response.status_code == 403 and "双人签字" in response.json()["detail"]
    client.force_login(keeper2)
    assert _post(client, f"/api/stock-movements/{stock_in['id']}/sign/").json()["status"] == "confirmed"

    client.force_login(keeper1)
    response = _post(
        client, "/api/allocations/goods/",
        {"campaign": campaign.pk, "recipient": world["hospital"].pk, "allocated_on": timezone.localdate().isoformat(),
         "plan_line": world["goods_line"].pk, "lines": [{"item": lot.pk, "warehouse": main.pk, "quantity": "60"}]},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    order = response.json()
    assert order["kind"] == "in_kind" and order["sources"][0]["quantity"] == "60.000"
    client.force_login(keeper2)
    assert _post(client, f"/api/allocations/{order['id']}/confirm/").json()["status"] == "confirmed"

    client.force_login(keeper1)
    response = _post(
        client, "/api/stock-movements/transfer/",
        {"item": lot.pk, "from_warehouse": main.pk, "to_warehouse": spare.pk, "quantity": "30", "reason": "分仓"},
    )  # fmt: skip
    assert response.status_code == 201
    assert [m["kind"] for m in response.json()] == ["transfer_out", "transfer_in"]
    response = _post(
        client, "/api/stock-movements/adjust/",
        {"item": lot.pk, "warehouse": main.pk, "quantity": "-20", "reason": "盘亏"},
    )  # fmt: skip
    assert response.status_code == 400 and "quantity" in response.json()  # 38 - 30 pending out leaves 8
    response = _post(
        client,
        "/api/stock-movements/adjust/",
        {"item": lot.pk, "warehouse": main.pk, "quantity": "-1", "reason": "受潮"},
    )
    assert response.status_code == 201
    adjustment = response.json()[0]["id"]
    response = _post(client, f"/api/stock-movements/{adjustment}/cancel/", {"reason": "登记错误"})
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    listed = client.get("/api/stock-movements/", {"warehouse": main.pk, "status": "confirmed"}).json()["results"]
    assert sorted(m["kind"] for m in listed) == ["in", "out"]
    assert client.get("/api/warehouses/").json()["results"][0]["name"] in {"测试主仓库", "备用仓库"}


@pytest.mark.parametrize(
    ("url", "payload", "field"),
    [
        ("stock-in", {"counted_quantity": "-5", "condition": "好"}, "counted_quantity"),
        ("stock-in", {"counted_quantity": "101", "condition": "好"}, "counted_quantity"),
        ("stock-in", {"counted_quantity": "1e12", "condition": "好"}, "counted_quantity"),
        ("stock-in", {"counted_quantity": "5"}, "condition"),
        ("stock-in", {"counted_quantity": "5", "condition": "好", "item": 424242}, "item"),
        ("stock-in", {"counted_quantity": "5", "condition": "好", "warehouse": "x"}, "warehouse"),
        ("stock-in", {"counted_quantity": "5", "condition": "好", "moved_at": "2999-01-01T00:00:00Z"}, "moved_at"),
        ("stock-in", {"counted_quantity": "5", "condition": "好", "expiry_date": "soon"}, "expiry_date"),
        ("adjust", {"quantity": "0", "reason": "盘点"}, "quantity"),
        ("adjust", {"quantity": "abc", "reason": "盘点"}, "quantity"),
        ("adjust", {"quantity": "1"}, "reason"),
        ("transfer", {"quantity": "1", "to_warehouse": None}, "to_warehouse"),
    ],
)
def test_stock_bad_input_is_a_400_naming_the_field(client, keeper1, world, url, payload, field):
    client.force_login(keeper1)
    base = {"item": world["lot"].pk, "warehouse": world["main"].pk, "from_warehouse": world["main"].pk}
    response = _post(client, f"/api/stock-movements/{url}/", {**base, **payload})
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not StockMovement.objects.exists()


def test_goods_order_bad_lines(client, keeper1, keeper2, campaign, world):
    lot, main = world["lot"], world["main"]
    stock_movement_confirm(
        movement=stock_in_check(by=keeper1, item=lot, warehouse=main, counted_quantity="100", condition="好"),
        by=keeper2,
    )
    client.force_login(keeper1)
    base = {
        "campaign": campaign.pk, "recipient": world["hospital"].pk, "allocated_on": timezone.localdate().isoformat(),
        "plan_line": world["goods_line"].pk,
    }  # fmt: skip
    for lines, field in (
        ([{"item": lot.pk, "warehouse": main.pk, "quantity": "101"}], "lines[0].quantity"),
        ([{"item": lot.pk, "warehouse": main.pk, "quantity": "1e12"}], "lines[0].quantity"),
        ([{"item": 424242, "warehouse": main.pk, "quantity": "1"}], "lines"),
        ([{"item": lot.pk, "warehouse": main.pk}], "lines"),
        ([], "lines"),
        ("not a list", "lines"),
    ):
        response = _post(client, "/api/allocations/goods/", {**base, "lines": lines})
        assert response.status_code == 400, (lines, response.content)
        assert field in response.json(), (lines, response.json())
    assert not Allocation.objects.exists()


# --- roles and branches ---------------------------------------------------------------------------


def test_wrong_role_is_a_403(client, city, clerk, campaign, world):
    leader = StaffFactory(branch=city, roles=["leadership"])
    client.force_login(leader)
    assert client.get("/api/allocations/").status_code == 200
    assert _post(client, "/api/allocations/cash/", _cash_payload(campaign, world)).status_code == 403
    assert _post(client, "/api/allocation-plans/", {}).status_code == 403
    assert _post(client, "/api/stock-movements/stock-in/", {}).status_code == 403
    client.force_login(clerk)
    allocation_id = _post(client, "/api/allocations/cash/", _cash_payload(campaign, world)).json()["id"]
    client.force_login(leader)
    assert _post(client, f"/api/allocations/{allocation_id}/confirm/").status_code == 403
    assert _post(client, f"/api/allocations/{allocation_id}/cancel/", {"reason": "x"}).status_code == 403
    # a clerk is no keeper: the service refuses goods with its message
    client.force_login(clerk)
    response = _post(
        client, "/api/stock-movements/stock-in/",
        {"item": world["lot"].pk, "warehouse": world["main"].pk, "counted_quantity": "5", "condition": "好"},
    )  # fmt: skip
    assert response.status_code == 403 and "仓库管理员" in response.json()["detail"]
    client.logout()
    assert client.get("/api/allocations/").status_code in (401, 403)
    assert Allocation.objects.get().status == AllocationStatus.REGISTERED


def test_district_staff_see_only_their_branch(client, branch_tree, campaign):
    east, west = branch_tree["east"], branch_tree["west"]
    east_row = AllocationRowFactory(branch=east, campaign=campaign)
    west_row = AllocationRowFactory(branch=west, campaign=campaign)
    east_move = StockMovementRowFactory(warehouse=WarehouseFactory(branch=east))
    west_move = StockMovementRowFactory(warehouse=WarehouseFactory(branch=west))
    staff = StaffFactory(branch=east, roles=["district_staff"])
    client.force_login(staff)
    assert [a["id"] for a in client.get("/api/allocations/").json()["results"]] == [east_row.pk]
    assert client.get(f"/api/allocations/{west_row.pk}/").status_code == 404
    assert client.get(f"/api/allocations/{east_row.pk}/").status_code == 200
    assert [m["id"] for m in client.get("/api/stock-movements/").json()["results"]] == [east_move.pk]
    assert client.get(f"/api/stock-movements/{west_move.pk}/").status_code == 404
    assert _post(client, f"/api/stock-movements/{west_move.pk}/sign/").status_code == 404
    assert _post(client, f"/api/allocations/{west_row.pk}/confirm/").status_code == 404
    assert [w["id"] for w in client.get("/api/warehouses/").json()["results"]] == [east_move.warehouse_id]
    # writes into another branch, or with its rows, are refused naming the field
    payload = {"campaign": campaign.pk, "recipient": west_row.recipient_id, "amount": "1",
               "allocated_on": timezone.localdate().isoformat(), "branch": west.pk}  # fmt: skip
    response = _post(client, "/api/allocations/cash/", payload)
    assert response.status_code == 400 and {"branch", "recipient"} <= set(response.json())
    response = _post(
        client, "/api/stock-movements/adjust/",
        {"item": west_move.item_id, "warehouse": west_move.warehouse_id, "quantity": "-1", "reason": "x"},
    )  # fmt: skip
    assert response.status_code == 400 and {"item", "warehouse"} <= set(response.json())
    # the books: their own branch by default, another branch is not theirs to read
    response = client.get(f"/api/campaign-books/{campaign.pk}/")
    assert response.status_code == 200 and response.json()["branch"] == east.pk
    assert client.get(f"/api/campaign-books/{campaign.pk}/", {"branch": west.pk}).status_code == 400


def test_campaign_books(client, clerk, reviewer, city, campaign, world):
    client.force_login(clerk)
    allocation_id = _post(client, "/api/allocations/cash/", _cash_payload(campaign, world)).json()["id"]
    client.force_login(reviewer)
    _post(client, f"/api/allocations/{allocation_id}/confirm/")
    response = client.get(f"/api/campaign-books/{campaign.pk}/")
    assert response.status_code == 200
    books = response.json()
    assert books["is_balanced"] is True and books["discrepancies"] == []
    assert books["cash_received"] == "1800.00" and books["cash_allocated"] == "450.00"
    assert books["cash_balance"] == "1350.00"
    received = Decimal(books["received"])
    assert received == Decimal(books["allocated"]) + Decimal(books["in_stock"]) + Decimal(
        books["cash_balance"]
    ) + Decimal(books["goods_written_off"])
    assert client.get(f"/api/campaign-books/{campaign.pk}/", {"branch": city.pk}).json()["branch"] == city.pk
    assert client.get("/api/campaign-books/424242/").status_code == 404


def test_token_auth_works(client, reviewer, world):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=reviewer)
    response = client.get("/api/allocation-plans/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200 and len(response.json()["results"]) == 1


def test_list_query_count_does_not_grow_with_rows(client, city, campaign, reviewer, django_assert_max_num_queries):
    warehouse = WarehouseFactory(branch=city)
    for _ in range(25):
        AllocationRowFactory(branch=city, campaign=campaign)
        StockMovementRowFactory(warehouse=warehouse)
    client.force_login(reviewer)
    with django_assert_max_num_queries(8):
        response = client.get("/api/allocations/")
    assert len(response.json()["results"]) == 25
    with django_assert_max_num_queries(8):
        response = client.get("/api/stock-movements/")
    assert len(response.json()["results"]) == 25


def test_schema_lists_the_new_endpoints(client, branch_tree):
    schema = client.get("/api/schema/").content.decode()
    for path in (
        "/api/allocation-plans/",
        "/api/allocations/cash/",
        "/api/allocations/goods/",
        "/api/allocations/{id}/confirm/",
        "/api/allocations/{id}/cancel/",
        "/api/recipient-confirmations/",
        "/api/stock-movements/stock-in/",
        "/api/stock-movements/transfer/",
        "/api/stock-movements/adjust/",
        "/api/stock-movements/{id}/sign/",
        "/api/warehouses/",
        "/api/campaign-books/{id}/",
    ):
        assert path in schema, path
