"""Volume seeding for benchmarks (donations.seeding, manage.py seed_donations)."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.utils import timezone
from stdnum.cn import uscc

from donations.models import (
    Campaign,
    CampaignKind,
    CampaignStatus,
    Certificate,
    Channel,
    Donation,
    DonationItem,
    DonationKind,
    DonationStatus,
    Donor,
    DonorKind,
    OpenCash,
    PublicDisplay,
    Receipt,
    ValueBasis,
)
from donations.seeding import CAMPAIGN_NAME, seed_campaign_slug, seed_donations
from donations.selectors.books import campaign_books
from redcross.numbering import sequence_current
from redcross.validators import validate_cn_phone, validate_uscc
from tests.donations.factories import CampaignFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
COUNT = 2000
SERIAL_RE = re.compile(r"^CS2020-(\d{6})$")


@pytest.fixture
def seeded(city):
    report = seed_donations(count=COUNT)
    return report, Campaign.objects.get(slug=report.campaign)


def _share(queryset, total=COUNT) -> float:
    return queryset.count() / total


def _numbers(queryset) -> list[int]:
    return sorted(int(SERIAL_RE.match(serial).group(1)) for serial in queryset.values_list("serial", flat=True))


def test_exact_count_in_the_city_emergency_campaign(seeded, city):
    report, campaign = seeded

    assert Donation.objects.count() == COUNT
    assert (report.donations, report.total, report.campaign) == (COUNT, COUNT, seed_campaign_slug(city))
    assert report.donors == Donor.objects.count() < COUNT / 2  # donors give repeatedly
    assert report.items == DonationItem.objects.count()
    assert report.elapsed > 0
    assert (campaign.branch, campaign.name, campaign.kind, campaign.is_emergency) == (
        city,
        CAMPAIGN_NAME,
        CampaignKind.SPECIAL,
        True,
    )
    assert campaign.filing_number
    assert set(Donation.objects.values_list("branch", flat=True).distinct()) == {city.pk}
    # a benchmark fixture: no history rows for the volume, no certificates or receipts
    assert not Donation.history.exists() and not Donor.history.exists() and not DonationItem.history.exists()
    assert not Certificate.objects.exists() and not Receipt.objects.exists()


def test_shares_of_donors_kinds_status_and_directed_gifts(seeded):
    donations = Donation.objects.all()
    persons = donations.filter(donor__kind=DonorKind.PERSON).exclude(donor__public_display=PublicDisplay.ANONYMOUS)

    assert _share(persons) == pytest.approx(0.70, abs=0.04)
    assert _share(donations.filter(donor__kind=DonorKind.ORGANISATION)) == pytest.approx(0.20, abs=0.035)
    assert _share(donations.filter(donor__public_display=PublicDisplay.ANONYMOUS)) == pytest.approx(0.10, abs=0.03)
    assert _share(donations.filter(kind=DonationKind.CASH)) == pytest.approx(0.85, abs=0.035)
    assert _share(donations.filter(status=DonationStatus.CONFIRMED)) == pytest.approx(0.97, abs=0.015)
    directed = donations.filter(designated_recipient__isnull=False)
    assert _share(directed) == pytest.approx(0.03, abs=0.015)
    assert all(
        wish and recipient in wish for wish, recipient in directed.values_list("wish", "designated_recipient__name")
    )
    assert not donations.filter(designated_recipient__isnull=True).exclude(wish="").exists()
    cash = donations.filter(kind=DonationKind.CASH)
    channels = dict(cash.values_list("channel").annotate(n=Count("id")))
    assert channels[Channel.WECHAT] / cash.count() == pytest.approx(0.45, abs=0.05)
    assert channels[Channel.BANK] / cash.count() == pytest.approx(0.25, abs=0.05)
    assert set(donations.filter(kind=DonationKind.IN_KIND).values_list("channel", flat=True)) <= {
        Channel.ON_SITE,
        Channel.OTHER,
    }


def test_identifiers_validate_and_persons_consent_to_full_names(seeded):
    organisations = Donor.objects.filter(kind=DonorKind.ORGANISATION)
    assert organisations.count() > 50
    for code in organisations.values_list("credit_code", flat=True):
        validate_uscc(code)
        assert uscc.is_valid(code)
    assert organisations.values("credit_code").distinct().count() == organisations.count()
    phones = [phone for phone in Donor.objects.values_list("phone", flat=True) if phone]
    assert len(phones) > Donor.objects.count() / 3
    for phone in phones:
        validate_cn_phone(phone)
    full = Donor.objects.filter(kind=DonorKind.PERSON, public_display=PublicDisplay.FULL)
    assert 0 < full.count() < Donor.objects.filter(kind=DonorKind.PERSON).count() * 0.1
    assert not full.filter(full_name_consent_at__isnull=True).exists()
    assert not full.filter(full_name_consent_text="").exists()
    assert not Donor.objects.filter(wants_receipt=True).exists()
    for donor in Donor.objects.all()[:200]:
        donor.full_clean(validate_constraints=False)
        assert donor.created_at == donor.donations.earliest("received_at").received_at


def test_amounts_are_positive_decimals_and_goods_have_item_lines(seeded):
    for kind, amount in Donation.objects.values_list("kind", "amount"):
        if kind == DonationKind.CASH:
            assert isinstance(amount, Decimal)
            assert amount > 0
            assert amount.as_tuple().exponent == -2
        else:
            assert amount is None
    lines = dict(Donation.objects.filter(kind=DonationKind.IN_KIND).annotate(n=Count("items")).values_list("pk", "n"))
    assert lines and set(lines.values()) <= {1, 2, 3}
    assert not DonationItem.objects.exclude(donation__kind=DonationKind.IN_KIND).exists()
    items = DonationItem.objects.all()
    for quantity, unit_value, basis in items.values_list("quantity", "unit_value", "value_basis"):
        assert quantity > 0
        assert (unit_value is None) == (basis == ValueBasis.NONE)
        assert unit_value is None or (unit_value > 0 and unit_value.as_tuple().exponent == -2)
    assert _share(items.filter(value_basis=ValueBasis.NONE), items.count()) == pytest.approx(0.10, abs=0.04)
    persons = Donation.objects.filter(kind=DonationKind.CASH, donor__kind=DonorKind.PERSON)
    organisations = Donation.objects.filter(kind=DonationKind.CASH, donor__kind=DonorKind.ORGANISATION)
    assert _share(persons.filter(amount__gte=10, amount__lte=2000), persons.count()) > 0.8
    assert not organisations.filter(amount__lt=1000).exists()
    assert not organisations.filter(amount__gt=1_000_000).exists()


def test_serials_gapless_in_received_order_with_two_signatures(seeded, city):
    donations = Donation.objects.order_by("received_at", "serial")

    assert _numbers(donations) == list(range(1, COUNT + 1))
    assert list(donations.values_list("serial", flat=True)) == sorted(donations.values_list("serial", flat=True))
    assert sequence_current(scope=f"donation:{city.code}:2020") == COUNT
    confirmed = donations.filter(status=DonationStatus.CONFIRMED)
    for registered_by, confirmed_by, received_at, registered_at, confirmed_at in confirmed.values_list(
        "registered_by", "confirmed_by", "received_at", "registered_at", "confirmed_at"
    ):
        assert confirmed_by is not None and confirmed_by != registered_by
        assert registered_at == received_at < confirmed_at <= timezone.now()
    assert not donations.filter(status=DonationStatus.REGISTERED, confirmed_by__isnull=False).exists()
    ids = donations.filter(kind=DonationKind.CASH).exclude(channel=Channel.ON_SITE)
    assert not ids.filter(channel_transaction_id="").exists()
    assert ids.values("channel_transaction_id").distinct().count() == ids.count()


def test_received_in_the_surge_window_in_shanghai_time(seeded):
    start = datetime(2020, 1, 24, tzinfo=SHANGHAI)
    received = list(Donation.objects.values_list("received_at", flat=True))

    assert min(received) >= start and max(received) < start + timedelta(days=60)
    by_day: dict[date, int] = {}
    for moment in received:
        day = moment.astimezone(SHANGHAI).date()
        by_day[day] = by_day.get(day, 0) + 1
    peak = max(by_day, key=by_day.get)
    assert date(2020, 1, 26) <= peak <= date(2020, 2, 5)  # a surge a few days in ...
    first_week = sum(n for day, n in by_day.items() if day < date(2020, 1, 31))
    last_week = sum(n for day, n in by_day.items() if day >= date(2020, 3, 16))
    assert first_week > 5 * last_week  # ... then decay
    hours = [moment.astimezone(SHANGHAI).hour for moment in received]
    assert sum(1 for h in hours if 1 <= h < 6) < 0.05 * len(hours)


def test_never_in_the_future(city):
    seed_donations(count=300, start=timezone.localdate() - timedelta(days=1), days=60)

    assert not Donation.objects.filter(received_at__gt=timezone.now()).exists()
    assert not Donation.objects.filter(confirmed_at__gt=timezone.now()).exists()


def test_running_twice_adds_nothing_and_a_larger_count_tops_up(city):
    first = seed_donations(count=300)
    again = seed_donations(count=300)
    more = seed_donations(count=450)

    assert (first.donations, again.donations, more.donations) == (300, 0, 150)
    assert (again.donors, again.items, more.total) == (0, 0, 450)
    assert Donation.objects.count() == 450
    assert _numbers(Donation.objects.all()) == list(range(1, 451))
    assert Campaign.objects.count() == 1
    phones = Donor.objects.exclude(phone="")
    assert phones.values("phone").distinct().count() == phones.count()  # unique across runs too


def test_same_seed_same_amounts(city):
    other = CampaignFactory(branch=city, slug="seed-again")
    third = CampaignFactory(branch=city, slug="seed-other")
    seed_donations(count=300, seed=7)
    seed_donations(count=300, seed=7, campaign=other)
    seed_donations(count=300, seed=8, campaign=third)

    def gifts(slug):
        rows = Donation.objects.filter(campaign__slug=slug).order_by("serial")
        return list(rows.values_list("amount", "kind", "channel", "received_at", "status"))

    assert gifts(seed_campaign_slug(city)) == gifts("seed-again")
    assert gifts("seed-again") != gifts("seed-other")


def test_explicit_branch_and_campaign_checks(branch_tree, city):
    east_campaign = CampaignFactory(branch=branch_tree["east"], slug="east-special")

    report = seed_donations(count=20, branch=branch_tree["east_school"], campaign=east_campaign)

    assert report.donations == 20
    assert set(Donation.objects.values_list("serial", flat=True)) == {f"CSES2020-{n:06d}" for n in range(1, 21)}
    with pytest.raises(ValidationError) as excinfo:
        seed_donations(count=20, branch=branch_tree["west"], campaign=east_campaign)
    assert "campaign" in excinfo.value.message_dict
    paused = CampaignFactory(branch=city, slug="paused-special", status=CampaignStatus.PAUSED)
    with pytest.raises(ValidationError) as excinfo:
        seed_donations(count=20, campaign=paused)
    assert "campaign" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        seed_donations(count=0)
    assert "count" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        seed_donations(count=10, start=timezone.localdate() + timedelta(days=2))
    assert "start" in excinfo.value.message_dict


def test_a_seeded_donation_opens_in_the_public_lookup(client, city):
    seed_donations(count=200)
    donation = (
        Donation.objects.filter(
            status=DonationStatus.CONFIRMED, donor__kind=DonorKind.PERSON, donor__public_display=PublicDisplay.MASKED
        )
        .exclude(donor__phone="")
        .select_related("donor")
        .first()
    )

    response = client.post("/donations/lookup/", {"serial": donation.serial, "phone_last4": donation.donor.phone[-4:]})

    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert donation.serial in page
    assert donation.donor.public_name in page
    assert donation.donor.name not in page
    assert donation.donor.phone not in page


# --- the command ------------------------------------------------------------------------------


def command(*args) -> list[str]:
    out = io.StringIO()
    call_command("seed_donations", *map(str, args), stdout=out)
    return out.getvalue().splitlines()


def test_command_seeds_and_prints_a_summary(branch_tree, city):
    campaign = CampaignFactory(branch=city, slug="cmd-special")

    lines = command("--count", 40, "--campaign", campaign.slug, "--start", "2020-02-01", "--days", 10, "--seed", 3)

    assert lines[-1].startswith("seeded: 40 donations, ")
    assert lines[-1].endswith("campaign cmd-special now has 40 donations")
    assert lines[0] == "seed_donations: adding 40 donations to campaign cmd-special (0 before)"
    assert lines[1].startswith("seed_donations: 40/40 donations, ")
    assert Donation.objects.filter(campaign=campaign).count() == 40
    again = command("--count", 40, "--campaign", campaign.pk, "-v", 0)  # by id; nothing to add
    assert len(again) == 1
    assert again[0].startswith("seeded: 0 donations, 0 donors, 0 items in ")
    assert again[0].endswith("campaign cmd-special now has 40 donations")
    assert Donation.objects.count() == 40
    lines = command("--count", 5, "--branch", "CSE")
    assert lines[-1].endswith(f"campaign {seed_campaign_slug(branch_tree['east'])} now has 5 donations")
    assert Donation.objects.filter(branch=branch_tree["east"]).count() == 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", 10, "--branch", "NOPE"], "unknown branch code: NOPE"),
        (["--count", 10, "--campaign", "no-such-campaign"], "unknown campaign: no-such-campaign"),
        (["--count", 10, "--start", "2020-13-01"], "--start must be a date as YYYY-MM-DD"),
        (["--count", 10, "--start", "24.01.2020"], "--start must be a date as YYYY-MM-DD"),
        (["--count", 0], "--count must be between 1 and 5000000"),
        (["--count", 5_000_001], "--count must be between 1 and 5000000"),
        (["--count", 10, "--days", 0], "--days must be at least 1"),
        (["--count", 10, "--start", "2999-01-01"], "start must be in the past"),
    ],
)
def test_command_errors(city, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        command(*args)
    assert not Donation.objects.exists()


def test_the_campaign_books_balance_after_seeding_and_topping_up(city):
    seed_donations(count=600)
    report = seed_donations(count=900)
    campaign = Campaign.objects.get(slug=report.campaign)

    allocatable = Donation.objects.filter(
        campaign=campaign, kind=DonationKind.CASH, status=DonationStatus.CONFIRMED, designated_recipient__isnull=True
    )
    assert OpenCash.objects.filter(campaign=campaign).count() == allocatable.count() > 700
    books = campaign_books(campaign)
    assert books.discrepancies == []
    assert books.donations == Donation.objects.filter(status=DonationStatus.CONFIRMED).count()
