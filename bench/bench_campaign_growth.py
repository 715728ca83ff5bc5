"""Pages that do not grow with the surge (issue 16): one campaign grown to 30,000, 100,000,
300,000 and 1,000,000 gifts (``BENCH_GROWTH_SIZES``), and at each size the database time of

- the campaign page with its cache cold (``campaign_cold``) and warm (``campaign_warm``),
- the campaign list (``campaign_list``), the home page with its cache cold (``home``),
- a donation's public page with its trace (``trace``: a gift a cash allocation drew on),

each the median of ``db_ms`` over full requests through the test client (sum of the queries'
time). Then the nightly reconciliation of the campaign (``reconciliation_s``: the books gift by
gift, what the campaign page used to compute on a cache miss, plus the comparison of the kept
figures with them; it must find them equal) and, at the largest size, the monthly report of the
surge's busiest month (``report_month_s``), each in a fresh forkserver child with its peak
memory (``..._memory_growth_mb``: the ru_maxrss delta over the job, see bench_reports).

Seeding: ``seed_donations`` tops the campaign up to each size (the kept figures follow once per
batch); at each size one cash allocation from the pool and one goods allocation of a checked-in
lot are made through the services, so the pages show allocations and the trace has steps.
With ``BENCH_KEEPDB=1`` the database is kept: a later run seeds nothing and measures only the
sizes not below the campaign's current size (the smaller ones are reported as skipped);
``BENCH_GROWTH_JOBS=0`` measures the pages only.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
from collections.abc import Iterator

SIZES = [int(n) for n in os.environ.get("BENCH_GROWTH_SIZES", "30000,100000,300000,1000000").split(",")]
REPEAT = int(os.environ.get("BENCH_GROWTH_REPEAT", "15"))
JOBS = os.environ.get("BENCH_GROWTH_JOBS", "1") == "1"  # 0: the pages only, no reconciliation or report


def _label(size: int) -> str:
    return f"{size // 1_000_000}m" if size % 1_000_000 == 0 else f"{size // 1000}k"


def _job_in_child(database_name: str, job: str, campaign_id: int, branch_id: int, month: str) -> tuple:
    """Runs in a fresh process: (seconds, ru_maxrss before, ru_maxrss after, detail)."""
    import tempfile

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "redcross.settings_test")
    import django

    django.setup()
    from django.db import connections

    connections["default"].settings_dict["NAME"] = database_name
    from donations.models import Campaign
    from redcross.models import Branch

    campaign, branch = Campaign.objects.get(pk=campaign_id), Branch.objects.get(pk=branch_id)
    if job == "report":
        import redcross.pdf  # noqa: F401  (loaded before the baseline, as in a worker)
        from reports.exports import write_report
        from reports.periods import ReportPeriod
        from reports.selectors import report_build
    else:
        from donations.services.reconciliation import reconciliation_check
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if job == "report":
        report = report_build(period=ReportPeriod.parse("month", month), branch=branch, scope="system")
        with tempfile.TemporaryFile() as handle:
            write_report(report, "xlsx", handle)
        detail = []
    else:
        run = reconciliation_check(campaign=campaign, branch=branch)
        detail = [m for m in run.discrepancies if m.startswith("公开数字")]
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    connections.close_all()
    return elapsed, before, after, detail


def _in_child(job: str, campaign, branch, month: str = "") -> tuple:
    from django.db import connection

    context = multiprocessing.get_context("forkserver")
    with context.Pool(1) as pool:
        return pool.apply(_job_in_child, (connection.settings_dict["NAME"], job, campaign.pk, branch.pk, month))


def _people(branch):
    from django.contrib.auth.models import Group

    from redcross.models import User
    from redcross.roles import role_group_name

    people = {}
    for name, role in (
        ("clerk", "donation_clerk"),
        ("reviewer", "finance_reviewer"),
        ("keeper_a", "warehouse_keeper"),
        ("keeper_b", "warehouse_keeper"),
    ):
        user, created = User.objects.get_or_create(
            username=f"bench-growth-{name}", defaults={"is_staff": True, "branch": branch}
        )
        if created:
            user.groups.set([Group.objects.get(name=role_group_name(role))])
        people[name] = user
    return people


def _allocate(campaign, branch, people, size: int):
    """One cash payment from the pool and one goods order of a checked-in lot, through the services;
    returns a donation the cash payment drew on (for the trace)."""
    from django.utils import timezone

    from donations.models import AllocationSource, DonationItem, DonationStatus, Recipient, Warehouse
    from donations.services.allocations import (
        allocation_confirm,
        allocation_plan_register,
        allocation_register_cash,
        allocation_register_goods,
    )
    from donations.services.warehouse import stock_in_check, stock_movement_confirm

    today = timezone.localdate()
    hospital, _ = Recipient.objects.get_or_create(
        branch=branch, name="基准增长测试医院", defaults={"kind": Recipient.Kind.HOSPITAL}
    )
    warehouse, _ = Warehouse.objects.get_or_create(branch=branch, name="基准增长测试仓库")
    plan = allocation_plan_register(
        by=people["clerk"],
        branch=branch,
        document_number=f"基准〔{size}〕号",
        title="捐赠款物分配方案",
        issuing_body="基准测试指挥部",
        issued_on=today,
        lines=[
            {"kind": "cash", "campaign": campaign, "recipient": hospital, "amount": "50000.00"},
            {"kind": "in_kind", "campaign": campaign, "recipient": hospital, "item_name": "物资", "quantity": "1000000",
             "unit": "件"},
        ],
    )  # fmt: skip
    paid = allocation_register_cash(
        by=people["clerk"],
        campaign=campaign,
        recipient=hospital,
        amount="50000.00",
        allocated_on=today,
        plan_line=plan.lines.get(kind="cash"),
        branch=branch,
    )
    allocation_confirm(allocation=paid, by=people["reviewer"])
    lot = (
        DonationItem.objects.filter(
            donation__campaign=campaign,
            donation__status=DonationStatus.CONFIRMED,
            donation__is_retroactive=False,
            value_basis="invoice",
            movements__isnull=True,
        )
        .order_by("-pk")
        .first()
    )
    if lot is not None:
        stock_in = stock_in_check(
            by=people["keeper_a"], item=lot, warehouse=warehouse, counted_quantity=lot.quantity, condition="完好"
        )
        stock_movement_confirm(movement=stock_in, by=people["keeper_b"])
        sent = allocation_register_goods(
            by=people["keeper_a"],
            campaign=campaign,
            recipient=hospital,
            allocated_on=today,
            plan_line=plan.lines.get(kind="in_kind"),
            lines=[{"item": lot, "warehouse": warehouse, "quantity": lot.quantity / 2}],
        )
        allocation_confirm(allocation=sent, by=people["keeper_b"])
    return AllocationSource.objects.filter(allocation=paid).order_by("pk").first().donation


def run() -> Iterator[tuple[str, str, str]]:
    from django.conf import settings
    from django.core.cache import cache, caches
    from django.test import Client

    from bench.timing import db_ms
    from donations.models import Campaign, Donation
    from donations.seeding import _city_branch, seed_campaign_slug, seed_donations

    branch = _city_branch()
    people = _people(branch)
    client = Client()
    language = settings.LANGUAGE_CODE

    def forget(*keys):
        for key in keys:
            cache.delete(key)
        caches["fragments"].clear()

    for size in SIZES:
        label = _label(size)
        campaign = Campaign.objects.filter(slug=seed_campaign_slug(branch)).first()
        existing = Donation.objects.filter(campaign=campaign).count() if campaign else 0
        if existing > size:
            yield f"campaign_growth_{label}_skipped_campaign_has", str(existing), "gifts"
            continue
        began = time.perf_counter()
        if existing < size:
            seed_donations(count=size, branch=branch)
            campaign = Campaign.objects.get(slug=seed_campaign_slug(branch))
            traced = _allocate(campaign, branch, people, size)
        else:
            traced = (
                Donation.objects.filter(campaign=campaign, uses__item__isnull=True).order_by("uses__pk").first()
                or Donation.objects.filter(campaign=campaign).first()
            )
        yield f"campaign_growth_{label}_seed_s", f"{time.perf_counter() - began:.0f}", "s"
        campaign_key = f"disclosure:campaign:{campaign.pk}:{language}:kept"
        home_key = "disclosure:home-figures:kept"
        paths = {
            "campaign": f"/disclosure/campaigns/{campaign.slug}/",
            "list": "/disclosure/campaigns/",
            "home": "/",
            "trace": f"/disclosure/donations/{traced.serial}/",
        }
        for path in paths.values():
            assert client.get(path).status_code == 200, path

        def page(path, *cold):
            def request():
                forget(*cold)
                client.get(path)

            return request

        figures = {
            "campaign_cold": db_ms(page(paths["campaign"], campaign_key), REPEAT),
            "campaign_warm": db_ms(page(paths["campaign"]), REPEAT),
            "campaign_list": db_ms(page(paths["list"]), REPEAT),
            "home": db_ms(page(paths["home"], home_key), REPEAT),
            "trace": db_ms(page(paths["trace"]), REPEAT),
        }
        for name, value in figures.items():
            yield f"campaign_growth_{label}_{name}_db_ms", f"{value:.2f}", "ms"

        if not JOBS:
            continue
        seconds, before, after, differences = _in_child("reconciliation", campaign, branch)
        assert differences == [], differences[:5]  # the kept figures equal the books, gift by gift
        yield f"campaign_growth_{label}_reconciliation_s", f"{seconds:.1f}", "s"
        yield f"campaign_growth_{label}_reconciliation_memory_growth_mb", f"{(after - before) / 1024:.0f}", "MB"
        if size == max(SIZES) or size == min(SIZES):
            seconds, before, after, _ = _in_child("report", campaign, branch, "2020-02")
            yield f"campaign_growth_{label}_report_month_s", f"{seconds:.1f}", "s"
            yield f"campaign_growth_{label}_report_month_memory_growth_mb", f"{(after - before) / 1024:.0f}", "MB"
    yield "campaign_growth_kept_day_rows", str(_rows()), "rows"


def _rows() -> int:
    from donations.models import CampaignDayFigures

    return CampaignDayFigures.objects.count()
