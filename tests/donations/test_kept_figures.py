"""The public figures kept up to date off the request path (issue 16): every write that changes a
campaign's figures changes the kept rows in its own transaction, the public pages read only those
rows (never a gift, never the books), the nightly reconciliation compares them with a full
recomputation, and an expired cached page is recomputed once however many visitors wait for it."""

import io
import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.db.models import F, Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from donations.imports import import_statement
from donations.models import Campaign, CampaignDayFigures, CampaignRecipientFigures, Donation, ReconciliationRun
from donations.selectors.books import campaign_books, campaign_ledgers
from donations.selectors.campaigns import campaign_summary, campaign_totals, home_figures, received_totals
from donations.services.allocations import (
    allocation_cancel,
    allocation_confirm,
    allocation_register_cash,
    allocation_register_goods,
)
from donations.services.figures import rebuild_kept_figures
from donations.services.intake import donation_confirm, donation_confirm_batch, donation_correct
from donations.services.reconciliation import kept_figure_differences, reconciliation_check
from donations.services.retroactive import retroactive_register
from donations.services.warehouse import stock_adjust, stock_in_check, stock_movement_confirm, stock_transfer
from redcross.cache import cached_or_refreshed
from tests.donations.factories import CampaignFactory, PersonDonorFactory, RecipientFactory, WarehouseFactory
from tests.donations.test_imports import wechat_file, wx
from tests.donations.test_reconciliation import make_plan, refund, register, today
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def assert_shown_equals_ledgers(campaign, *branches):
    """Figures shown == a full recomputation: the kept rows day by day and kind by kind, and the
    campaign page's, list's and home page's figures against the gift-by-gift books."""
    books_total = None
    for branch in branches or (campaign.branch,):
        books, ledgers = campaign_ledgers(campaign, branch)
        assert kept_figure_differences(campaign, branch, ledgers) == []
        books_total = books if books_total is None else books_total
    summary = campaign_summary(campaign)
    full = received_totals(Q(campaign=campaign))[None]
    assert summary.totals == full
    assert campaign_totals([campaign]).get(campaign.pk, full) == full
    if len(branches) <= 1:
        assert (summary.allocated, summary.in_stock, summary.cash_balance, summary.written_off) == (
            books_total.allocated,
            books_total.in_stock,
            books_total.cash_balance,
            books_total.goods_written_off,
        )
    return summary


@pytest.fixture
def people(city):
    return {
        "clerk": StaffFactory(branch=city, roles=["donation_clerk"]),
        "reviewer": StaffFactory(branch=city, roles=["finance_reviewer"]),
    }


@pytest.fixture
def hospital(city):
    return RecipientFactory(branch=city, name="测试市第一人民医院")


@pytest.fixture
def plan_lines(people, city, campaign, hospital):
    return make_plan(people["clerk"], city, campaign, hospital)


def confirmed_cash(people, city, campaign, amount="100.00", **overrides):
    return donation_confirm(
        donation=register(people["clerk"], city, campaign, amount=amount, **overrides), by=people["reviewer"]
    )


def confirmed_goods(people, city, campaign, quantity="100", unit_value="2.00"):
    gift = register(
        people["clerk"],
        city,
        campaign,
        kind="in_kind",
        items=[
            {
                "name": "医用外科口罩",
                "quantity": quantity,
                "unit": "只",
                "unit_value": unit_value,
                "value_basis": "invoice",
            }
        ],
    )
    return donation_confirm(donation=gift, by=people["reviewer"])


# --- each write changes the figures shown, in its own transaction ---------------------------------


def test_a_confirmation_counts_at_once(people, city, campaign):
    registered = register(people["clerk"], city, campaign, amount="100.00")
    assert campaign_summary(campaign).received == 0  # registered, not confirmed: not counted
    donation_confirm(donation=registered, by=people["reviewer"])
    summary = assert_shown_equals_ledgers(campaign)
    assert (summary.donations, summary.cash_received, summary.cash_balance) == (1, Decimal("100.00"), Decimal("100.00"))
    assert summary.daily == [(timezone.localdate(registered.received_at), Decimal("100.00"), 1)]
    assert home_figures().today.cash == Decimal("100.00")


def test_a_refund_counts_at_once(people, city, campaign):
    donation = confirmed_cash(people, city, campaign)
    refund(people["clerk"], donation, "40.00")
    summary = assert_shown_equals_ledgers(campaign)
    assert summary.cash_received == Decimal("60.00")
    # the daily series shows what came in that day, as before: refunds are not taken from it
    assert summary.daily[0][1:] == (Decimal("100.00"), 1)


def test_a_correction_moves_the_figures(people, city, campaign):
    donation = confirmed_cash(people, city, campaign)
    donation_correct(donation=donation, by=people["reviewer"], reason="按银行回单更正", changes={"amount": "150.00"})
    assert assert_shown_equals_ledgers(campaign).cash_received == Decimal("150.00")

    earlier = timezone.now() - timedelta(days=3)
    donation_correct(donation=donation, by=people["reviewer"], reason="到账日期有误", changes={"received_at": earlier})
    summary = assert_shown_equals_ledgers(campaign)
    assert summary.daily == [(timezone.localdate(earlier), Decimal("150.00"), 1)]

    other = CampaignFactory(branch=city, name="测试冬季救助", slug="test-winter")
    donation_correct(donation=donation, by=people["reviewer"], reason="募捐活动选错", changes={"campaign": other})
    assert assert_shown_equals_ledgers(campaign).donations == 0
    assert assert_shown_equals_ledgers(other).cash_received == Decimal("150.00")


def test_cash_allocations_count_when_confirmed_and_return_when_cancelled(people, city, campaign, hospital, plan_lines):
    cash_line, _goods_line = plan_lines
    confirmed_cash(people, city, campaign, "1000.00")
    paid = allocation_register_cash(
        by=people["clerk"],
        campaign=campaign,
        recipient=hospital,
        amount="600.00",
        allocated_on=today(),
        plan_line=cash_line,
    )
    summary = assert_shown_equals_ledgers(campaign)
    assert (summary.allocated, summary.by_recipient_kind) == (Decimal("0.00"), [])
    assert CampaignDayFigures.objects.get(day=today()).cash_reserved == 60000  # 待复核, kept in fen

    allocation_confirm(allocation=paid, by=people["reviewer"])
    summary = assert_shown_equals_ledgers(campaign)
    assert (summary.allocated, summary.cash_balance) == (Decimal("600.00"), Decimal("400.00"))
    assert summary.by_recipient_kind == [("医院", Decimal("600.00"))]

    withdrawn = allocation_register_cash(
        by=people["clerk"],
        campaign=campaign,
        recipient=hospital,
        amount="100.00",
        allocated_on=today(),
        plan_line=cash_line,
    )
    allocation_cancel(allocation=withdrawn, by=people["clerk"], reason="重复登记")
    assert_shown_equals_ledgers(campaign)
    assert sum(CampaignDayFigures.objects.values_list("cash_reserved", flat=True)) == 0


def test_stock_movements_and_goods_allocations_count(people, city, campaign, hospital, plan_lines):
    _cash_line, goods_line = plan_lines
    keeper_a = StaffFactory(branch=city, roles=["warehouse_keeper"])
    keeper_b = StaffFactory(branch=city, roles=["warehouse_keeper"])
    main, spare = WarehouseFactory(branch=city, name="主仓库"), WarehouseFactory(branch=city, name="周转仓库")
    masks = confirmed_goods(people, city, campaign, "1000", "2.00").items.get()
    summary = assert_shown_equals_ledgers(campaign)
    assert (summary.goods_received, summary.in_stock) == (Decimal("2000.00"), Decimal("2000.00"))  # awaiting its check

    stock_in = stock_in_check(by=keeper_a, item=masks, warehouse=main, counted_quantity="950", condition="完好")
    assert_shown_equals_ledgers(campaign)  # not signed yet: nothing moved
    stock_movement_confirm(movement=stock_in, by=keeper_b)
    summary = assert_shown_equals_ledgers(campaign)
    assert (summary.in_stock, summary.written_off) == (Decimal("1900.00"), Decimal("100.00"))

    out, _into = stock_transfer(by=keeper_a, item=masks, from_warehouse=main, to_warehouse=spare, quantity="100")
    stock_movement_confirm(movement=out, by=keeper_b)
    spoilt = stock_adjust(by=keeper_a, item=masks, warehouse=main, quantity="-10", reason="受潮霉变")
    stock_movement_confirm(movement=spoilt, by=keeper_b)
    summary = assert_shown_equals_ledgers(campaign)
    assert (summary.in_stock, summary.written_off) == (Decimal("1880.00"), Decimal("120.00"))

    sent = allocation_register_goods(
        by=keeper_a,
        campaign=campaign,
        recipient=hospital,
        allocated_on=today(),
        plan_line=goods_line,
        lines=[{"item": masks, "warehouse": main, "quantity": "300"}],
    )
    allocation_confirm(allocation=sent, by=keeper_b)
    summary = assert_shown_equals_ledgers(campaign)
    assert (summary.allocated, summary.in_stock) == (Decimal("600.00"), Decimal("1280.00"))
    assert summary.by_recipient_kind == [("医院", Decimal("600.00"))]


def test_retroactive_paperwork_counts_when_confirmed(people, city, campaign, hospital):
    retroactive_register(
        by=people["clerk"],
        branch=city,
        donor=PersonDonorFactory(branch=city),
        campaign=campaign,
        recipient=hospital,
        received_at=timezone.now() - timedelta(hours=2),
        items=[{"name": "消毒液", "quantity": "10", "unit": "桶", "unit_value": "30.00", "value_basis": "invoice"}],
        signed_by_name="王主任",
    )
    assert campaign_summary(campaign).received == 0
    donation_confirm(donation=Donation.objects.get(), by=people["reviewer"])
    summary = assert_shown_equals_ledgers(campaign)
    assert (summary.goods_received, summary.allocated, summary.in_stock) == (
        Decimal("300.00"),
        Decimal("300.00"),
        Decimal("0.00"),
    )


def test_a_statement_import_its_batch_confirmation_and_its_refunds_count(people, city, campaign):
    data = wechat_file(
        wx("W1", "100.00", when="2020-02-01 10:00:01"),
        wx("W2", "50.00", when="2020-02-01 23:30:00"),  # Beijing time: still 1 February
        wx("W3", "20.00", when="2020-02-02 00:10:00"),
    )
    import_statement(path_or_file=data, fmt="wechat", by=people["clerk"], branch=city, campaign=campaign)
    assert campaign_summary(campaign).donations == 0  # imported gifts wait for their second signature
    confirmed, refused = donation_confirm_batch(donations=Donation.objects.order_by("pk"), by=people["reviewer"])
    assert (len(confirmed), refused) == (3, [])
    summary = assert_shown_equals_ledgers(campaign)
    assert [(day.isoformat(), cash, n) for day, cash, n in summary.daily] == [
        ("2020-02-01", Decimal("150.00"), 2),
        ("2020-02-02", Decimal("20.00"), 1),
    ]
    refunds = wechat_file(wx("W1", "0.00", status="REFUND", refund_id="R1", refund="40.00"))
    import_statement(path_or_file=refunds, fmt="wechat", by=people["clerk"], branch=city, campaign=campaign)
    assert assert_shown_equals_ledgers(campaign).cash_received == Decimal("130.00")


def test_the_seeder_keeps_the_figures_once_per_batch(city, monkeypatch):
    from donations import seeding

    monkeypatch.setattr(seeding, "BATCH_SIZE", 150)
    report = seeding.seed_donations(count=400, branch=city)
    campaign = Campaign.objects.get(slug=report.campaign)
    assert report.total == 400
    summary = assert_shown_equals_ledgers(campaign)
    assert 0 < summary.donations <= 400


def test_a_branch_below_keeps_its_own_rows(people, branch_tree, campaign):
    east = branch_tree["east"]
    east_clerk = StaffFactory(branch=east, roles=["donation_clerk"])
    east_reviewer = StaffFactory(branch=east, roles=["finance_reviewer"])
    confirmed_cash(people, branch_tree["city"], campaign, "100.00")
    donation_confirm(donation=register(east_clerk, east, campaign, amount="88.00"), by=east_reviewer)
    summary = assert_shown_equals_ledgers(campaign, branch_tree["city"], east)
    assert (summary.donations, summary.cash_received) == (2, Decimal("188.00"))
    assert set(CampaignDayFigures.objects.values_list("branch", flat=True)) == {branch_tree["city"].pk, east.pk}


# --- the nightly check compares them; a rebuild repairs them -----------------------------------------


def test_a_corrupted_kept_row_is_a_discrepancy_and_a_rebuild_repairs_it(people, city, campaign, client):
    confirmed_cash(people, city, campaign, "100.00")
    assert reconciliation_check(campaign=campaign, branch=city).is_balanced

    CampaignDayFigures.objects.filter(campaign=campaign).update(cash_gross=F("cash_gross") + 1)  # one fen
    run = reconciliation_check(campaign=campaign, branch=city)
    assert run.is_balanced is False
    assert any("公开数字与账目不符" in m and "捐款金额 公开 100.01，账目重算 100.00" in m for m in run.discrepancies)
    assert campaign_books(campaign).is_balanced  # the ledgers themselves are fine
    page = client.get(f"/disclosure/campaigns/{campaign.slug}/").content.decode()
    assert "账目存在差异" in page  # the result of the last check, as the page always showed

    CampaignRecipientFigures.objects.create(campaign=campaign, branch=city, recipient_kind="police", allocated=500)
    run = reconciliation_check(campaign=campaign, branch=city)
    assert any("公安" in m or "police" in m for m in run.discrepancies)

    call_command("rebuild_campaign_figures", campaign=campaign.slug, stdout=io.StringIO())
    assert reconciliation_check(campaign=campaign, branch=city).is_balanced
    assert campaign_summary(campaign).cash_received == Decimal("100.00")


def test_the_nightly_task_checks_kept_rows_of_a_pair_without_ledgers(city, campaign):
    from donations.tasks import reconciliation_nightly_task

    CampaignDayFigures.objects.create(campaign=campaign, branch=city, day=today(), donations=1, cash_gross=100)
    assert reconciliation_nightly_task() == 1
    run = ReconciliationRun.objects.get()
    assert "捐赠笔数 公开 1，账目重算 0" in run.discrepancies[0]


def test_rebuild_recomputes_every_campaign(people, city, campaign):
    confirmed_cash(people, city, campaign, "100.00")
    confirmed_goods(people, city, campaign, "10", "3.00")
    CampaignDayFigures.objects.all().delete()
    assert campaign_summary(campaign).received == 0
    assert rebuild_kept_figures() >= 1
    assert assert_shown_equals_ledgers(campaign).received == Decimal("130.00")


# --- public requests read the kept rows, never the gifts or the books -------------------------------


def _tables(queries) -> str:
    return " ".join(query["sql"] for query in queries)


def test_public_campaign_pages_read_no_gift_and_never_the_books(people, city, campaign, client, monkeypatch):
    for amount in ("10.00", "20.00", "30.00"):
        confirmed_cash(people, city, campaign, amount)
    confirmed_goods(people, city, campaign)

    def forbidden(*args, **kwargs):
        raise AssertionError("the books are computed on a public request")

    monkeypatch.setattr("donations.selectors.books.campaign_ledgers", forbidden)
    monkeypatch.setattr("donations.selectors.books.lot_figures", forbidden)
    monkeypatch.setattr("donations.selectors.campaigns.lot_figures", forbidden)
    counts = {}
    for path in (f"/disclosure/campaigns/{campaign.slug}/", "/disclosure/campaigns/", "/api/public/campaigns/"):
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200, path
        sql = _tables(queries)
        assert '"donations_donation"' not in sql and '"donations_donationitem"' not in sql, path
        counts[path] = len(queries)
    # more gifts, the same queries
    for amount in ("40.00", "50.00"):
        confirmed_cash(people, city, campaign, amount)
    for path, count in counts.items():
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        assert len(queries) == count, path
    cache.clear()
    page = client.get(f"/disclosure/campaigns/{campaign.slug}/").content.decode()
    assert "350.00" in page.replace(",", "")  # 10+20+30+40+50 yuan and 200 yuan of masks


def test_home_page_counts_today_and_this_year_by_local_day(people, city, campaign):
    now = timezone.localtime()
    confirmed_cash(people, city, campaign, "100.00", received_at=timezone.now() - timedelta(seconds=5))
    last_year = now.replace(year=now.year - 1, month=6, day=1)
    confirmed_cash(people, city, campaign, "7.00", received_at=last_year)
    figures = home_figures()
    assert figures.today.cash == Decimal("100.00")
    assert figures.year.cash == Decimal("100.00")
    assert figures.campaign_totals.cash == Decimal("107.00")
    assert figures.campaign_totals == received_totals(Q(campaign=campaign))[None]


# --- no stampede ----------------------------------------------------------------------------------


def _stampede(key, seconds_old, compute, threads=20):
    """``threads`` callers of ``cached_or_refreshed`` at once; returns what each got."""
    if seconds_old is not None:
        cache.set(key, (time.time() - seconds_old, "previous"), 3600)  # expired some seconds ago
    start = threading.Barrier(threads)
    results = []

    def visitor():
        start.wait()
        results.append(cached_or_refreshed(key, compute, 30))

    workers = [threading.Thread(target=visitor) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    return results


def _slow_counter():
    calls = []
    lock = threading.Lock()

    def compute():
        with lock:
            calls.append(1)
        time.sleep(0.3)  # long enough for every visitor to arrive while it runs
        return "fresh"

    return calls, compute


def test_twenty_visitors_on_an_expired_entry_cause_one_recomputation():
    calls, compute = _slow_counter()
    results = _stampede("test:stampede:expired", 5, compute)
    assert len(calls) == 1
    assert sorted(results) == ["fresh"] + ["previous"] * 19  # the others served the previous value
    assert cached_or_refreshed("test:stampede:expired", compute, 30) == "fresh"
    assert len(calls) == 1


def test_twenty_visitors_on_a_cold_cache_wait_for_one_recomputation():
    calls, compute = _slow_counter()
    results = _stampede("test:stampede:cold", None, compute)
    assert len(calls) == 1
    assert results == ["fresh"] * 20


def test_without_a_cache_every_request_computes():
    from redcross.cache import ResilientRedisCache

    dead = ResilientRedisCache(
        "redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}
    )
    began = time.monotonic()
    assert cached_or_refreshed("test:dead", lambda: "computed", 30, cache=dead) == "computed"
    assert time.monotonic() - began < 2  # no waiting for a lock nobody can take


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_requests_on_an_expired_campaign_page_cause_one_recomputation(
    branch_tree, is_postgres, monkeypatch
):
    """On PostgreSQL with real threads, each request on its own connection, through the real view."""
    if not is_postgres:
        pytest.skip("concurrent requests need PostgreSQL")
    from django.conf import settings
    from django.test import Client

    from donations.views import public

    campaign = CampaignFactory(branch=branch_tree["city"], name="测试抗疫专项募捐", slug="test-stampede")
    real = public.campaign_summary
    calls = []

    def counted(campaign):
        calls.append(1)
        time.sleep(0.3)
        return real(campaign)

    monkeypatch.setattr(public, "campaign_summary", counted)
    path = f"/disclosure/campaigns/{campaign.slug}/"
    assert Client().get(path).status_code == 200
    assert len(calls) == 1
    key = f"disclosure:campaign:{campaign.pk}:{settings.LANGUAGE_CODE}:kept"
    expires, value = cache.get(key)
    cache.set(key, (expires - 3600, value), 3600)  # expired an hour ago

    start = threading.Barrier(20)
    statuses = []

    def visitor():
        start.wait()
        try:
            statuses.append(Client().get(path).status_code)
        finally:
            connection.close()

    workers = [threading.Thread(target=visitor) for _ in range(20)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert statuses == [200] * 20
    assert len(calls) == 2  # the first request above, and one for the twenty


def test_migrate_fills_empty_kept_figures_once_from_the_ledgers(people, city, campaign):
    """An upgrade: the kept tables arrive empty beside confirmed gifts; the post-migrate hook fills
    them from the ledgers, and does nothing once they hold rows."""
    from unittest import mock

    from donations.apps import fill_kept_figures_once

    confirmed_cash(people, city, campaign, amount="120.00")
    confirmed_goods(people, city, campaign)
    CampaignDayFigures.objects.all().delete()
    CampaignRecipientFigures.objects.all().delete()
    fill_kept_figures_once(sender=None)
    assert CampaignDayFigures.objects.exists()
    assert_shown_equals_ledgers(campaign)
    with mock.patch("donations.services.figures.rebuild_kept_figures") as rebuild:
        fill_kept_figures_once(sender=None)
        rebuild.assert_not_called()
