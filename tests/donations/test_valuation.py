"""The value of a lot of goods: one rule (``donations.valuation``), in Python and in SQL.

The Python function and the SQL expression are evaluated on the same table of lots (ties,
large values, no evidence of value) on the test database (SQLite, or PostgreSQL when
DATABASE_URL is set), and every figure that values goods (the item and source models, the
books, the daily report, the home page, the campaign page, the monthly report) is checked to
give the rule's value on a lot whose rounding would show a second copy.
"""

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

import pytest
from django.db.models import Sum
from django.utils import timezone

from donations.models import AllocationSource, DonationItem, DonationStatus, ValueBasis
from donations.valuation import fen_to_yuan, has_value_evidence, lot_value, lot_value_fen
from tests.donations.factories import AllocationRowFactory, DonationItemFactory, RecipientFactory

ROOT = Path(__file__).resolve().parents[2]

# (quantity, unit value, basis, value)
LOTS = [
    ("2.5", "4.53", ValueBasis.INVOICE, "11.32"),  # 11.325: a tie, to the even fen
    ("2.5", "4.55", ValueBasis.INVOICE, "11.38"),  # 11.375: a tie, up to the even fen
    ("0.333", "0.01", ValueBasis.APPRAISAL, "0.00"),  # 0.00333
    ("0.5", "0.01", ValueBasis.APPRAISAL, "0.00"),  # 0.005: a tie at zero
    ("1.5", "0.01", ValueBasis.APPRAISAL, "0.02"),  # 0.015: a tie, up to 2 fen
    ("1.001", "0.05", ValueBasis.MARKET_PRICE, "0.05"),  # 0.05005
    ("3.333", "3.33", ValueBasis.DONOR_QUOTE, "11.10"),  # 11.09889
    ("100", "50.00", ValueBasis.INVOICE, "5000.00"),
    ("1000000", "9999.99", ValueBasis.CUSTOMS, "9999990000.00"),  # the largest line the services accept
    ("99999.999", "12345.67", ValueBasis.AGREEMENT, "1234566987.65"),  # 1234566987.65433
    ("12345678.125", "0.10", ValueBasis.INVOICE, "1234567.81"),  # 1234567.8125
    ("7", "0.00", ValueBasis.INVOICE, "0.00"),  # a gift valued at nothing is valued
    ("40", None, ValueBasis.NONE, None),
    ("40", "12.00", ValueBasis.NONE, None),  # a price without evidence is no value
]


def _dec(text):
    return None if text is None else Decimal(text)


@pytest.mark.parametrize(("quantity", "unit_value", "basis", "value"), LOTS)
def test_lot_value_python(quantity, unit_value, basis, value):
    assert lot_value(Decimal(quantity), _dec(unit_value), basis) == _dec(value)


def test_lot_value_ignores_the_callers_decimal_context():
    with localcontext(rounding=ROUND_HALF_UP):
        assert lot_value(Decimal("2.5"), Decimal("4.53"), ValueBasis.INVOICE) == Decimal("11.32")


def test_sql_expression_gives_the_python_value_lot_by_lot(city):
    items = [
        DonationItemFactory(
            donation__branch=city, quantity=quantity, unit_value=unit_value, value_basis=basis, name=f"lot{n}"
        )
        for n, (quantity, unit_value, basis, _value) in enumerate(LOTS)
    ]
    in_sql = dict(DonationItem.objects.annotate(fen=lot_value_fen()).values_list("name", "fen"))
    for item, (_q, _u, _b, value) in zip(items, LOTS, strict=True):
        item.refresh_from_db()
        from_db = in_sql[item.name]
        sql_value = None if from_db is None else fen_to_yuan(from_db)
        assert sql_value == _dec(value) == item.value == lot_value(item.quantity, item.unit_value, item.value_basis), (
            item.name
        )
    # the evidence condition as a filter selects exactly the lots with a value
    valued = set(DonationItem.objects.filter(has_value_evidence()).values_list("name", flat=True))
    assert valued == {item.name for item in items if item.value is not None}
    # a sum over the expression is the sum of the Python values, to the fen
    total = DonationItem.objects.aggregate(total=Sum(lot_value_fen()))["total"]
    assert fen_to_yuan(total) == sum(item.value for item in items if item.value is not None)


def test_sql_expression_through_a_relation_matches_the_source_value(city):
    """An allocation's source values part of a lot: its own quantity at the lot's unit value."""
    recipient = RecipientFactory(branch=city)
    for n, (quantity, unit_value, basis, _value) in enumerate(LOTS):
        item = DonationItemFactory(
            donation__branch=city, quantity="99999999", unit_value=unit_value, value_basis=basis, name=f"lot{n}"
        )
        allocation = AllocationRowFactory(branch=city, recipient=recipient, kind="in_kind", amount=None)
        AllocationSource.objects.create(allocation=allocation, donation=item.donation, item=item, quantity=quantity)
    sources = AllocationSource.objects.select_related("item").annotate(
        fen=lot_value_fen("quantity", "item__unit_value", "item__value_basis")
    )
    for source, (_q, _u, _b, value) in zip(sources.order_by("id"), LOTS, strict=True):
        assert (None if source.fen is None else fen_to_yuan(source.fen)) == _dec(value) == source.value


@pytest.fixture
def tie_lot(city, campaign):
    """A confirmed in-kind gift whose lot is worth 11.325 yuan before rounding: 11.32 by the rule,
    11.33 by half-up rounding, and a sum rounded after adding two of them would drift too."""
    first = DonationItemFactory(
        donation__branch=city,
        donation__campaign=campaign,
        donation__status=DonationStatus.CONFIRMED,
        donation__received_at=timezone.now() - timedelta(minutes=5),
        quantity="2.5",
        unit_value="4.53",
    )
    DonationItemFactory(donation=first.donation, quantity="2.5", unit_value="4.53", name="第二批")
    return first.donation


def test_every_figure_values_goods_by_the_one_rule(tie_lot, city, campaign):
    from donations.report_sections import intake_by
    from donations.selectors import daily_intake_report, donation_public_facts
    from donations.selectors.books import campaign_books
    from donations.selectors.campaigns import campaign_summary, home_figures
    from donations.services.figures import rebuild_kept_figures
    from reports.periods import ReportPeriod

    rebuild_kept_figures()  # made by factories, behind the services that keep the public figures

    expected = Decimal("22.64")  # 2 × 11.32; the unrounded sum 22.65 would be a second rule
    assert tie_lot.goods_value() == expected
    assert donation_public_facts(tie_lot).goods_value == expected
    assert campaign_books(campaign, city).goods_received == expected
    assert campaign_summary(campaign).goods_received == expected
    assert home_figures().year_goods == expected
    day = timezone.localdate(tie_lot.received_at)
    assert daily_intake_report(day=day, branch_ids=None).totals.total_goods_value == expected
    period = ReportPeriod.month_of(day.strftime("%Y-%m"))
    assert intake_by(period, city, "own", "campaign_id")[campaign.pk]["goods"] == expected


def test_no_other_module_writes_the_rule_again():
    """The rounding of a lot and the evidence condition live in donations/valuation.py only."""
    offenders = []
    for path in [*(ROOT / "donations").rglob("*.py"), *(ROOT / "reports").rglob("*.py")]:
        if "migrations" in path.parts or path.name == "valuation.py":
            continue
        text = path.read_text(encoding="utf-8")
        for needle in ('* F("unit_value")', '* F("item__unit_value")', "* unit_value)", "ProductInFen("):
            if needle in text:
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
        if "== ValueBasis.NONE" in text:
            offenders.append(f"{path.relative_to(ROOT)}: == ValueBasis.NONE")
    assert offenders == []
