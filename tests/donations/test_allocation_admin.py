"""The admin pages of allocations, recipients' sign-off, the warehouse and the books: every page
renders for its role, forms and actions go through the services, rows are branch-scoped,
read-only roles change nothing, and list pages do not grow in queries with their rows."""

from datetime import timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from donations.models import (
    Allocation,
    AllocationPlan,
    AllocationStatus,
    Donation,
    MovementStatus,
    RecipientConfirmation,
    StockMovement,
)
from donations.services.allocations import (
    allocation_confirm,
    allocation_plan_register,
    allocation_register_cash,
    allocation_register_goods,
)
from donations.services.intake import donation_confirm, donation_register
from donations.services.warehouse import stock_adjust, stock_in_check, stock_movement_confirm, stock_transfer
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


# --- a small world: a campaign with cash and a checked-in lot, a plan, two keepers ----------------


@pytest.fixture
def keeper1(city):
    return StaffFactory(branch=city, roles=["warehouse_keeper"], last_name="赵", first_name="仓一")


@pytest.fixture
def keeper2(city):
    return StaffFactory(branch=city, roles=["warehouse_keeper"], last_name="钱", first_name="仓二")


@pytest.fixture
def leader(city):
    return StaffFactory(branch=city, roles=["leadership"])


@pytest.fixture
def world(city, campaign, clerk, reviewer, keeper1, keeper2):
    hospital = RecipientFactory(branch=city, name="测试市第一人民医院")
    now = timezone.now()
    for hours, amount in ((30, "300.00"), (20, "500.00"), (10, "1000.00")):  # the undirected pool, oldest first
        donation = donation_register(
            by=clerk, branch=city, donor=PersonDonorFactory(branch=city), campaign=campaign, kind="cash",
            channel="bank", received_at=now - timedelta(hours=hours), amount=amount,
        )  # fmt: skip
        donation_confirm(donation=donation, by=reviewer)
    main = WarehouseFactory(branch=city, name="测试主仓库")
    spare = WarehouseFactory(branch=city, name="测试备用仓库")
    lot = DonationItemFactory(
        donation__branch=city,
        donation__campaign=campaign,
        donation__status="confirmed",
        name="医用外科口罩",
        specification="50只/盒",
        unit="盒",
        quantity="100",
        expiry_date=timezone.localdate() + timedelta(days=10),
    )
    movement = stock_in_check(by=keeper1, item=lot, warehouse=main, counted_quantity="100", condition="外包装完好")
    stock_movement_confirm(movement=movement, by=keeper2)
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
        "hospital": hospital, "main": main, "spare": spare, "lot": lot, "plan": plan,
        "cash_line": cash_line, "goods_line": goods_line,
    }  # fmt: skip


def _cash(clerk, campaign, world, amount="400.00"):
    return allocation_register_cash(
        by=clerk, campaign=campaign, recipient=world["hospital"], amount=amount,
        allocated_on=timezone.localdate() - timedelta(days=1), plan_line=world["cash_line"],
    )  # fmt: skip


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- every page renders for its role -----------------------------------------------------------


VIEW_PAGES = [
    "admin:donations_allocation_changelist",
    "admin:donations_allocationplan_changelist",
    "admin:donations_recipientconfirmation_changelist",
    "admin:donations_recipientconfirmation_outstanding",
    "admin:donations_stockmovement_changelist",
    "admin:donations_stockmovement_ledger",
    "admin:donations_stockmovement_near_expiry",
    "admin:donations_warehouse_changelist",
    "admin:donations_reconciliationrun_changelist",
    "admin:donations_reconciliationrun_books",
]
CLERK_PAGES = [
    "admin:donations_allocationplan_add",
    "admin:donations_allocation_add",
    "admin:donations_allocation_add_cash",
    "admin:donations_recipientconfirmation_add",
]
KEEPER_PAGES = [
    "admin:donations_allocation_add_goods",
    "admin:donations_stockmovement_add",
    "admin:donations_stockmovement_stock_in",
    "admin:donations_stockmovement_transfer",
    "admin:donations_stockmovement_adjust",
    "admin:donations_warehouse_add",
]


@pytest.mark.parametrize("url_name", VIEW_PAGES + CLERK_PAGES)
def test_pages_render_for_the_clerk(client, clerk, campaign, world, url_name):
    confirmed = _cash(clerk, campaign, world)
    allocation_confirm(allocation=confirmed, by=StaffFactory(branch=clerk.branch, roles=["finance_reviewer"]))
    client.force_login(clerk)
    response = client.get(reverse(url_name))
    assert response.status_code == 200, url_name


@pytest.mark.parametrize("url_name", VIEW_PAGES + KEEPER_PAGES)
def test_pages_render_for_a_keeper(client, keeper1, world, url_name):
    client.force_login(keeper1)
    assert client.get(reverse(url_name)).status_code == 200, url_name


def test_change_pages_are_read_only_views(client, clerk, reviewer, campaign, world):
    allocation = _cash(clerk, campaign, world)
    movement = StockMovement.objects.get(item=world["lot"])
    client.force_login(reviewer)
    for url in (
        reverse("admin:donations_allocation_change", args=[allocation.pk]),
        reverse("admin:donations_stockmovement_change", args=[movement.pk]),
        reverse("admin:donations_allocationplan_change", args=[world["plan"].pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'name="_save"' not in response.content.decode()
    page = client.get(reverse("admin:donations_allocation_change", args=[allocation.pk])).content.decode()
    assert "款物去向" in page and "尚未签收" in page


def test_nothing_can_be_deleted(client, clerk, campaign, world):
    allocation = _cash(clerk, campaign, world)
    client.force_login(clerk)
    assert client.get(reverse("admin:donations_allocation_delete", args=[allocation.pk])).status_code == 403
    movement = StockMovement.objects.get(item=world["lot"])
    assert client.get(reverse("admin:donations_stockmovement_delete", args=[movement.pk])).status_code == 403
    assert client.get(reverse("admin:donations_warehouse_delete", args=[world["main"].pk])).status_code == 403
    page = client.get(reverse("admin:donations_allocation_changelist")).content.decode()
    assert "delete_selected" not in page


# --- forms call the services -----------------------------------------------------------------


def test_plan_form_registers_the_plan_with_its_lines(client, clerk, city, campaign, world):
    client.force_login(clerk)
    url = reverse("admin:donations_allocationplan_add")
    base = {
        "branch": city.pk, "document_number": "测防控指〔2026〕2号", "title": "第二批分配方案",
        "issuing_body": "测试市防控指挥部", "issued_on": timezone.localdate().isoformat(),
        "lines-TOTAL_FORMS": "3", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000", "lines-1-kind": "cash", "lines-2-kind": "cash",
    }  # fmt: skip
    line = {"lines-0-kind": "cash", "lines-0-campaign": campaign.pk, "lines-0-recipient": world["hospital"].pk}
    response = client.post(url, {**base, **line, "lines-0-amount": "-5"})
    assert response.status_code == 200
    assert response.context["formset"].forms[0].errors["amount"]
    assert AllocationPlan.objects.count() == 1
    response = client.post(url, {**base, **line, "lines-0-amount": "2000.00"})
    assert response.status_code == 302
    plan = AllocationPlan.objects.get(document_number="测防控指〔2026〕2号")
    assert plan.lines.get().amount == Decimal("2000.00")
    assert plan.created_by == clerk


def test_cash_form_calls_the_service_and_names_the_field(client, clerk, city, campaign, world):
    client.force_login(clerk)
    url = reverse("admin:donations_allocation_add_cash")
    data = {
        "branch": city.pk, "campaign": campaign.pk, "recipient": world["hospital"].pk,
        "allocated_on": timezone.localdate().isoformat(), "plan_line": world["cash_line"].pk,
    }  # fmt: skip
    response = client.post(url, {**data, "amount": "99999.00"})
    assert response.status_code == 200
    assert "amount" in response.context["form"].errors
    response = client.post(url, {**data, "amount": "abc"})
    assert "amount" in response.context["form"].errors
    response = client.post(url, {**data, "directed_donation": "NO-SUCH-SERIAL", "amount": "10"})
    assert "directed_donation" in response.context["form"].errors
    assert not Allocation.objects.exists()
    response = client.post(url, {**data, "amount": "600.00"})
    assert response.status_code == 302
    allocation = Allocation.objects.get()
    assert allocation.status == AllocationStatus.REGISTERED
    assert [s.amount for s in allocation.sources.order_by("id")] == [Decimal("300.00"), Decimal("300.00")]


def test_goods_form_is_for_keepers(client, clerk, keeper1, city, campaign, world):
    url = reverse("admin:donations_allocation_add_goods")
    lot = world["lot"]
    data = {
        "branch": city.pk, "campaign": campaign.pk, "recipient": world["hospital"].pk,
        "allocated_on": timezone.localdate().isoformat(), "plan_line": world["goods_line"].pk,
        "lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "1000",
        "lines-0-lot": f"{lot.pk}:{world['main'].pk}", "lines-0-quantity": "30",
    }  # fmt: skip
    client.force_login(clerk)  # not a keeper: the service refuses, the page says why
    response = client.post(url, data)
    assert response.status_code == 200
    assert any("仓库管理员" in str(e) for e in response.context["form"].non_field_errors())
    client.force_login(keeper1)
    response = client.post(url, {**data, "lines-0-quantity": "1000"})
    assert response.status_code == 200
    assert response.context["formset"].forms[0].errors["quantity"]
    response = client.post(url, data)
    assert response.status_code == 302
    order = Allocation.objects.get()
    assert order.kind == "in_kind" and order.movements.get().quantity == Decimal("-30")


# --- actions ----------------------------------------------------------------------------------


def test_confirm_action_refuses_the_registrar_with_a_message(client, clerk, city, campaign, world):
    other_clerk = StaffFactory(branch=city, roles=["donation_clerk"])
    own = _cash(clerk, campaign, world, amount="100.00")
    other = _cash(other_clerk, campaign, world, amount="250.00")
    clerk.user_permissions.add(Permission.objects.get(codename="confirm_allocation"))
    client.force_login(clerk)
    response = client.post(
        reverse("admin:donations_allocation_changelist"),
        {"action": "confirm", "_selected_action": [own.pk, other.pk]},
        follow=True,
    )
    texts = _messages(response)
    assert any("双人双签" in t and own.serial in t for t in texts)
    assert any("已复核 1 笔拨付" in t for t in texts)
    own.refresh_from_db()
    other.refresh_from_db()
    assert own.status == AllocationStatus.REGISTERED
    assert other.status == AllocationStatus.CONFIRMED


def test_cancel_action_asks_for_a_reason_then_releases_the_money(client, clerk, campaign, world):
    allocation = _cash(clerk, campaign, world, amount="400.00")
    url = reverse("admin:donations_allocation_changelist")
    client.force_login(clerk)
    response = client.post(url, {"action": "cancel", "_selected_action": [allocation.pk]})
    assert response.status_code == 200
    assert "reason" in response.context["form"].fields
    response = client.post(url, {"action": "cancel", "_selected_action": [allocation.pk], "apply": "1", "reason": ""})
    assert response.status_code == 200 and response.context["form"].errors
    response = client.post(
        url, {"action": "cancel", "_selected_action": [allocation.pk], "apply": "1", "reason": "收款账户有误"},
        follow=True,
    )  # fmt: skip
    assert any("已撤销 1 笔拨付" in t for t in _messages(response))
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.CANCELLED
    assert sum(d.allocated_amount for d in Donation.objects.filter(kind="cash")) == 0


def test_unconfirmed_allocations_stand_out_and_filters_work(client, clerk, campaign, world):
    allocation = _cash(clerk, campaign, world)
    client.force_login(clerk)
    url = reverse("admin:donations_allocation_changelist")
    page = client.get(url).content.decode()
    assert "allocation-pending" in page and "受赠单位类型" in page
    for query, shown in (
        ({"recipient__kind__exact": "hospital"}, True),
        ({"recipient__kind__exact": "cdc"}, False),
        ({"status__exact": "registered", "kind__exact": "cash", "basis__exact": "plan"}, True),
        ({"status__exact": "confirmed"}, False),
        ({"q": "第一人民医院"}, True),
        ({"q": allocation.serial}, True),
    ):
        assert (allocation.serial in client.get(url, query).content.decode()) is shown, query


def test_stock_in_page_and_the_second_keepers_signature(client, keeper1, keeper2, city, campaign, world):
    lot = DonationItemFactory(
        donation__branch=city,
        donation__campaign=campaign,
        donation__status="confirmed",
        name="一次性手套",
        quantity="40",
    )
    client.force_login(keeper1)
    url = reverse("admin:donations_stockmovement_stock_in")
    data = {"item": lot.pk, "warehouse": world["main"].pk, "condition": "完好"}
    response = client.post(url, {**data, "counted_quantity": "41"})
    assert response.status_code == 200 and "counted_quantity" in response.context["form"].errors
    assert client.post(url, {**data, "counted_quantity": "38"}).status_code == 302
    movement = StockMovement.objects.get(item=lot)
    assert movement.shortfall_quantity == Decimal("2") and movement.status == MovementStatus.PENDING

    changelist = reverse("admin:donations_stockmovement_changelist")
    response = client.post(changelist, {"action": "sign", "_selected_action": [movement.pk]}, follow=True)
    assert any("双人签字" in t for t in _messages(response))
    client.force_login(keeper2)
    response = client.post(changelist, {"action": "sign", "_selected_action": [movement.pk]}, follow=True)
    assert any("已签字 1 条" in t for t in _messages(response))
    movement.refresh_from_db()
    assert movement.status == MovementStatus.CONFIRMED and movement.confirmed_by == keeper2


def test_transfer_and_adjust_pages(client, keeper1, world):
    lot, main, spare = world["lot"], world["main"], world["spare"]
    client.force_login(keeper1)
    response = client.post(
        reverse("admin:donations_stockmovement_transfer"),
        {"lot": f"{lot.pk}:{main.pk}", "to_warehouse": spare.pk, "quantity": "20", "reason": "分仓"},
    )
    assert response.status_code == 302
    assert StockMovement.objects.filter(item=lot, kind__in=["transfer_out", "transfer_in"]).count() == 2
    url = reverse("admin:donations_stockmovement_adjust")
    response = client.post(url, {"lot": f"{lot.pk}:{main.pk}", "quantity": "-500", "reason": "盘亏"})
    assert response.status_code == 200 and "quantity" in response.context["form"].errors
    response = client.post(url, {"lot": f"{lot.pk}:{main.pk}", "quantity": "-2", "reason": ""})
    assert "reason" in response.context["form"].errors
    response = client.post(url, {"lot": f"{lot.pk}:{main.pk}", "quantity": "-2", "reason": "受潮损毁"})
    assert response.status_code == 302
    assert StockMovement.objects.get(kind="adjustment").quantity == Decimal("-2")


def test_cancel_a_pending_movement_with_a_reason(client, keeper1, world):
    lot, main = world["lot"], world["main"]
    pending = stock_adjust(by=keeper1, item=lot, warehouse=main, quantity="-1", reason="盘亏")
    client.force_login(keeper1)
    response = client.post(
        reverse("admin:donations_stockmovement_changelist"),
        {"action": "cancel", "_selected_action": [pending.pk], "apply": "1", "reason": "登记错误"},
        follow=True,
    )
    assert any("已撤销 1 条" in t for t in _messages(response))
    pending.refresh_from_db()
    assert pending.status == MovementStatus.CANCELLED


# --- recipients' sign-off --------------------------------------------------------------------


def test_outstanding_confirmations_with_age_then_the_sign_off(
    client, clerk, reviewer, keeper1, keeper2, campaign, world
):
    cash = _cash(clerk, campaign, world)
    allocation_confirm(allocation=cash, by=reviewer)
    order = allocation_register_goods(
        by=keeper1, campaign=campaign, recipient=world["hospital"], allocated_on=timezone.localdate(),
        plan_line=world["goods_line"], lines=[{"item": world["lot"], "warehouse": world["main"], "quantity": "30"}],
    )  # fmt: skip
    allocation_confirm(allocation=order, by=keeper2)
    client.force_login(clerk)
    response = client.get(reverse("admin:donations_recipientconfirmation_outstanding"))
    rows = {row.serial: row for row in response.context["rows"]}
    assert rows[cash.serial].age_days == 1 and rows[order.serial].age_days == 0
    assert cash.serial in response.content.decode()

    url = reverse("admin:donations_recipientconfirmation_add")
    form = client.get(url, {"allocation": order.pk}).context["form"]
    source = order.sources.get()
    assert f"received_{source.pk}" in form.fields
    signed_at = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    data = {"allocation": order.pk, "signed_by_name": "医院物资科", "signed_at": signed_at}
    response = client.post(url, {**data, f"received_{source.pk}": "31"})
    assert response.status_code == 200 and response.context["form"].errors
    # a page dressed as a PDF is refused like in the API (redcross.uploads), and nothing is recorded
    forged = SimpleUploadedFile("签收单.pdf", b"<html><script>x</script>", content_type="application/pdf")
    response = client.post(url, {**data, f"received_{source.pk}": "29", "scan": forged})
    assert response.status_code == 200 and "scan" in response.context["form"].errors
    assert not RecipientConfirmation.objects.filter(allocation=order).exists()
    scan = SimpleUploadedFile("签收单.pdf", b"%PDF-1.4 signed", content_type="application/pdf")
    response = client.post(url, {**data, f"received_{source.pk}": "29", "scan": scan})
    assert response.status_code == 302
    confirmation = RecipientConfirmation.objects.get(allocation=order)
    assert confirmation.quantities_received == {str(source.pk): "29"}
    # the signed form is downloaded through the admin (scope and permission checked), never a media URL
    change_page = client.get(reverse("admin:donations_recipientconfirmation_change", args=[confirmation.pk]))
    file_url = reverse("admin:donations_recipientconfirmation_file", args=[confirmation.pk, "scan"])
    assert file_url in change_page.content.decode() and "/media/" not in change_page.content.decode()
    assert b"".join(client.get(file_url).streaming_content) == b"%PDF-1.4 signed"
    assert (
        client.get(reverse("admin:donations_recipientconfirmation_file", args=[confirmation.pk, "note"])).status_code
        == 404
    )
    rows = client.get(reverse("admin:donations_recipientconfirmation_outstanding")).context["rows"]
    assert [row.serial for row in rows] == [cash.serial]


# --- the ledger, goods near expiry, the books -------------------------------------------------


def test_ledger_running_balance_on_screen_and_as_xlsx(client, keeper1, keeper2, branch_tree, city, campaign, world):
    from openpyxl import load_workbook

    main, spare = world["main"], world["spare"]
    lot = DonationItemFactory(
        donation__branch=city, donation__campaign=campaign, donation__status="confirmed",
        name='=HYPERLINK("http://evil.example","点我")', specification="", unit="箱", quantity="100",
    )  # fmt: skip
    checked = stock_in_check(by=keeper1, item=lot, warehouse=main, counted_quantity="100", condition="完好")
    stock_movement_confirm(movement=checked, by=keeper2)
    loss = stock_adjust(by=keeper1, item=lot, warehouse=main, quantity="-3", reason="+破损")
    stock_movement_confirm(movement=loss, by=keeper2)
    out, _into = stock_transfer(by=keeper1, item=lot, from_warehouse=main, to_warehouse=spare, quantity="20")
    stock_movement_confirm(movement=out, by=keeper2)
    stock_adjust(by=keeper1, item=lot, warehouse=main, quantity="-1", reason="未签字：不入台账")

    client.force_login(keeper1)
    url = reverse("admin:donations_stockmovement_ledger")
    index = client.get(url, {"warehouse": main.pk})
    assert any(item.name == lot.name and item.balance == Decimal("77") for item, _q in index.context["rows"])
    query = {"warehouse": main.pk, "name": lot.name, "spec": "", "unit": "箱"}
    response = client.get(url, query)
    assert response.status_code == 200
    ledger = response.context["ledger"]
    assert [row.balance for row in ledger.rows] == [Decimal("100"), Decimal("97"), Decimal("77")]
    assert ledger.rows[2].counterpart == spare.name
    assert "=HYPERLINK(&quot;http://evil.example&quot;" in response.content.decode()  # escaped on screen

    response = client.get(url, {**query, "format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[1][1] == "'" + lot.name  # a formula-like name is shown as text, never run
    header = rows.index(next(r for r in rows if r and r[0] == "日期"))
    movements = rows[header + 1 : header + 4]
    assert [r[6] for r in movements] == [100, 97, 77]
    assert movements[1][8] == "'+破损"
    assert rows[header + 4][:7] == ("合计", None, None, None, 100, 23, 77)
    # another branch's warehouse is not there to read
    client.force_login(StaffFactory(branch=branch_tree["east"], roles=["district_staff"]))
    assert client.get(url, query).status_code == 404


def test_near_expiry_lists_lots_in_stock_within_the_window(client, keeper1, keeper2, city, campaign, world):
    later = DonationItemFactory(
        donation__branch=city, donation__campaign=campaign, donation__status="confirmed", name="消毒液",
        expiry_date=timezone.localdate() + timedelta(days=90),
    )  # fmt: skip
    stock_movement_confirm(
        movement=stock_in_check(by=keeper1, item=later, warehouse=world["main"], counted_quantity="10", condition="好"),
        by=keeper2,
    )
    client.force_login(keeper1)
    url = reverse("admin:donations_stockmovement_near_expiry")
    lots = client.get(url).context["lots"]
    assert [(lot.name, lot.days_left) for lot in lots] == [("医用外科口罩", 10)]
    lots = client.get(url, {"days": "120"}).context["lots"]
    assert [lot.name for lot in lots] == ["医用外科口罩", "消毒液"]
    assert client.get(url, {"days": "abc"}).status_code == 200


def test_books_page_shows_the_equation(client, clerk, reviewer, campaign, world):
    allocation_confirm(allocation=_cash(clerk, campaign, world, amount="750.00"), by=reviewer)
    client.force_login(reviewer)
    response = client.get(reverse("admin:donations_reconciliationrun_books"), {"campaign": campaign.pk})
    books = response.context["books"]
    assert books.is_balanced
    assert books.cash_received == Decimal("1800.00") and books.cash_allocated == Decimal("750.00")
    assert response.context["right_side"] == books.received
    page = response.content.decode()
    assert "1,800.00" in page and "账目平衡" in page


def test_books_page_shows_the_books_own_right_side(client, clerk, reviewer, campaign, world, monkeypatch):
    """The equation's right side is the books' figure (``Books.right_side``), not a sum the admin makes."""
    from donations.selectors.books import Books

    allocation_confirm(allocation=_cash(clerk, campaign, world, amount="750.00"), by=reviewer)
    monkeypatch.setattr(Books, "right_side", property(lambda books: Decimal("12345.67")))
    client.force_login(reviewer)
    response = client.get(reverse("admin:donations_reconciliationrun_books"), {"campaign": campaign.pk})
    assert response.context["right_side"] == Decimal("12345.67")
    assert "（合计 12,345.67" in response.content.decode()


# --- branch scoping and read-only roles ----------------------------------------------------


def test_district_staff_see_only_their_branch(client, branch_tree, campaign):
    east, west = branch_tree["east"], branch_tree["west"]
    east_row = AllocationRowFactory(branch=east, campaign=campaign, serial="EAST-BF-1")
    west_row = AllocationRowFactory(branch=west, campaign=campaign, serial="WEST-BF-1")
    east_move = StockMovementRowFactory(warehouse=WarehouseFactory(branch=east), serial="EAST-CK-1")
    west_move = StockMovementRowFactory(warehouse=WarehouseFactory(branch=west), serial="WEST-CK-1")
    west_row.status = east_row.status = "confirmed"
    west_row.save()
    east_row.save()
    staff = StaffFactory(branch=east, roles=["district_staff"])
    client.force_login(staff)
    page = client.get(reverse("admin:donations_allocation_changelist")).content.decode()
    assert "EAST-BF-1" in page and "WEST-BF-1" not in page
    page = client.get(reverse("admin:donations_stockmovement_changelist")).content.decode()
    assert "EAST-CK-1" in page and "WEST-CK-1" not in page
    assert client.get(reverse("admin:donations_allocation_change", args=[east_row.pk])).status_code == 200
    for url in (
        reverse("admin:donations_allocation_change", args=[west_row.pk]),
        reverse("admin:donations_stockmovement_change", args=[west_move.pk]),
        reverse("admin:donations_allocation_history", args=[west_row.pk]),
    ):
        assert client.get(url).status_code in (302, 403, 404), url
    assert client.get(reverse("admin:donations_stockmovement_change", args=[east_move.pk])).status_code == 200
    outstanding = client.get(reverse("admin:donations_recipientconfirmation_outstanding")).context["rows"]
    assert [row.serial for row in outstanding] == ["EAST-BF-1"]
    page = client.get(reverse("admin:donations_stockmovement_ledger")).content.decode()
    assert east_move.warehouse.name in page and west_move.warehouse.name not in page


def test_leadership_reads_everything_and_changes_nothing(client, leader, clerk, campaign, world):
    allocation = _cash(clerk, campaign, world)
    client.force_login(leader)
    for url_name in VIEW_PAGES:
        assert client.get(reverse(url_name)).status_code == 200, url_name
    response = client.get(reverse("admin:donations_allocation_change", args=[allocation.pk]))
    assert response.status_code == 200 and 'name="_save"' not in response.content.decode()
    for url_name in CLERK_PAGES + KEEPER_PAGES:
        assert client.get(reverse(url_name)).status_code == 403, url_name
    changelist = reverse("admin:donations_allocation_changelist")
    assert 'value="confirm"' not in client.get(changelist).content.decode()
    client.post(changelist, {"action": "confirm", "_selected_action": [allocation.pk]})
    client.post(changelist, {"action": "cancel", "_selected_action": [allocation.pk], "apply": "1", "reason": "x"})
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.REGISTERED


# --- list pages stay cheap ------------------------------------------------------------------------


def test_list_pages_have_a_bounded_number_of_queries(client, city, campaign, reviewer, django_assert_max_num_queries):
    warehouse = WarehouseFactory(branch=city)
    for _ in range(25):
        AllocationRowFactory(branch=city, campaign=campaign, status="confirmed")
        StockMovementRowFactory(warehouse=warehouse)
    client.force_login(reviewer)
    for url_name in (
        "admin:donations_allocation_changelist",
        "admin:donations_stockmovement_changelist",
        "admin:donations_recipientconfirmation_outstanding",
        "admin:donations_stockmovement_ledger",
        "admin:donations_stockmovement_near_expiry",
    ):
        with django_assert_max_num_queries(14):
            response = client.get(reverse(url_name))
        assert response.status_code == 200
    assert len(client.get(reverse("admin:donations_recipientconfirmation_outstanding")).context["rows"]) == 25
