"""Allocation speed: one 1,000,000-yuan undirected payment drawn first in, first out from a pool
of ``BENCH_ALLOCATION_POOL`` (default 100,000) small confirmed donations (5-15 yuan, about 1.05
million in all, so the payment draws from ~95% of them), and a donation's trace.

Figures:
- cash_pool_rebuild_<N>_donations: filling the pool's queue (``OpenCash``) for the bulk-loaded gifts.
- allocate_1m_yuan_from_<N>_donations: wall time of ``allocation_register_cash`` (lock the
  campaign, read the pool's queue in keyset pages with row locks, write one source per donation
  drawn, delete the front of the queue in one statement) plus ``allocation_confirm`` by a
  second person.
- allocation_sources_written: how many donations the payment drew from.
- donation_trace_queries / donation_trace_ms: reading one drawn donation's public trace.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone


def run() -> Iterator[tuple[str, str, str]]:
    from django.contrib.auth.models import Group

    from donations.models import Campaign, CampaignKind, Donation, Donor, DonorKind, Recipient
    from donations.selectors.trace import donation_trace
    from donations.services.allocations import (
        allocation_confirm,
        allocation_plan_register,
        allocation_register_cash,
        cash_pool_rebuild,
    )
    from redcross.models import Branch, BranchLevel, User
    from redcross.roles import role_group_name

    pool_size = int(os.environ.get("BENCH_ALLOCATION_POOL", "100000"))
    branch = Branch.objects.filter(level=BranchLevel.CITY).first() or Branch.objects.create(
        name="基准拨付市红十字会", code="BA", level=BranchLevel.CITY
    )
    clerk = User.objects.create_user(username="bench-alloc-clerk", password=None, is_staff=True, branch=branch)
    clerk.groups.set([Group.objects.get(name=role_group_name("donation_clerk"))])
    reviewer = User.objects.create_user(username="bench-alloc-reviewer", password=None, is_staff=True, branch=branch)
    reviewer.groups.set([Group.objects.get(name=role_group_name("finance_reviewer"))])
    campaign = Campaign.objects.create(
        branch=branch, kind=CampaignKind.SPECIAL, name="基准拨付专项募捐", slug="bench-allocation",
        starts_on=timezone.localdate() - timedelta(days=60), is_emergency=True,
    )  # fmt: skip
    donor = Donor.objects.create(branch=branch, kind=DonorKind.PERSON, name="微信用户", created_by=clerk)
    recipient = Recipient.objects.create(branch=branch, name="基准医院", kind=Recipient.Kind.HOSPITAL)
    rng = random.Random(2020)
    start = timezone.now() - timedelta(days=50)
    rows = []
    for n in range(pool_size):
        received = start + timedelta(seconds=n * 20)
        rows.append(
            Donation(
                serial=f"BA2020-{n + 1:07d}", branch=branch, donor=donor, campaign=campaign, kind="cash",
                channel="wechat", channel_transaction_id=f"BENCHALLOC{n:010d}", received_at=received,
                amount=Decimal(rng.choice([5, 8, 10, 12, 15])) + Decimal(rng.randint(0, 99)) / 100,
                status="confirmed", registered_by=clerk, confirmed_by=reviewer, confirmed_at=received,
            )
        )  # fmt: skip
    Donation.objects.bulk_create(rows, batch_size=5000)
    del rows
    began = time.perf_counter()
    cash_pool_rebuild(campaign=campaign)  # bulk-loaded gifts bypass donation_confirm, which fills the pool
    yield f"cash_pool_rebuild_{pool_size}_donations", f"{time.perf_counter() - began:.2f}", "s"
    amount = Decimal("1000000.00")
    plan = allocation_plan_register(
        by=clerk, branch=branch, document_number="基准〔2020〕1号", title="基准分配方案", issuing_body="基准指挥部",
        issued_on=timezone.localdate(), lines=[{"kind": "cash", "campaign": campaign, "recipient": recipient,
                                                "amount": amount}],
    )  # fmt: skip
    began = time.perf_counter()
    allocation = allocation_register_cash(
        by=clerk, campaign=campaign, recipient=recipient, amount=amount, allocated_on=timezone.localdate(),
        plan_line=plan.lines.get(),
    )  # fmt: skip
    allocation_confirm(allocation=allocation, by=reviewer)
    elapsed = time.perf_counter() - began
    sources = allocation.sources.count()
    yield f"allocate_1m_yuan_from_{pool_size}_donations_{connection.vendor}", f"{elapsed:.2f}", "s"
    yield "allocation_sources_written", str(sources), "donations"
    drawn = allocation.sources.order_by("-id").first().donation
    with CaptureQueriesContext(connection) as queries:
        began = time.perf_counter()
        trace = donation_trace(drawn)
        trace_ms = (time.perf_counter() - began) * 1000
    assert trace.steps, "the drawn donation has a trace"
    yield "donation_trace_queries", str(len(queries)), "queries"
    yield "donation_trace_ms", f"{trace_ms:.1f}", "ms"
