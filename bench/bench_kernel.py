"""Kernel figures: numbering throughput, capital numerals, masking, branch subtree reads."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

from django.db import connection, transaction

from redcross.masking import mask_person_name
from redcross.money import capital_yuan
from redcross.numbering import sequence_next
from redcross.selectors import branch_subtree_ids


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}".replace(",", "")


def _seed_tree() -> object:
    from redcross.models import Branch, BranchLevel, GrassrootsKind

    city = Branch.objects.create(name="基准市红十字会", code="BM", level=BranchLevel.CITY)
    for d in range(15):  # a large city: 15 districts with 40 grassroots organisations each
        district = Branch.objects.create(name=f"基准第{d}区", code=f"BD{d:02d}", level=BranchLevel.COUNTY, parent=city)
        for g in range(40):
            Branch.objects.create(
                name=f"基准第{d}区第{g}校",
                code=f"G{d:02d}{g:02d}",
                level=BranchLevel.GRASSROOTS,
                grassroots_kind=GrassrootsKind.SCHOOL,
                parent=district,
            )
    return city


def run() -> Iterator[tuple[str, str, str]]:
    vendor = connection.vendor
    count = 2000
    start = time.perf_counter()
    for _ in range(count):
        with transaction.atomic():
            sequence_next(scope="bench:receipt:2026")
    yield f"sequence_next_{vendor}", _rate(count, time.perf_counter() - start), "numbers/s"

    amounts = [Decimal(i * 7919 % 10_000_000) / 100 for i in range(20000)]
    start = time.perf_counter()
    for amount in amounts:
        capital_yuan(amount)
    yield "capital_yuan", _rate(len(amounts), time.perf_counter() - start), "amounts/s"

    names = ["张三", "欧阳娜娜", "李小龙", "John Smith"] * 5000
    start = time.perf_counter()
    for name in names:
        mask_person_name(name)
    yield "mask_person_name", _rate(len(names), time.perf_counter() - start), "names/s"

    city = _seed_tree()
    start = time.perf_counter()
    runs = 500
    for _ in range(runs):
        ids = branch_subtree_ids(city)
    elapsed = time.perf_counter() - start
    yield f"branch_subtree_616_branches_{vendor}", f"{elapsed / runs * 1000:.2f}", "ms"
    assert len(ids) == 616
