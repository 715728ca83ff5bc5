"""Who is shown by full name on public pages: one rule (``shows_full_name``), and the column the
honor roll's name search reads (``Donation.public_name``, kept by the database's triggers) never
disagrees with it, on SQLite and on PostgreSQL."""

from __future__ import annotations

import importlib
import itertools

import pytest
from django.core.cache import cache
from django.utils import timezone

from donations.models import (
    Donation,
    DonationStatus,
    Donor,
    DonorKind,
    PublicDisplay,
    donor_public_name,
    full_name_shown,
    full_name_sql,
    shows_full_name,
)
from donations.selectors.honor_roll import HonorRollFilters, honor_roll_page
from tests.donations.factories import DonationFactory, OrganisationDonorFactory, PersonDonorFactory

pytestmark = pytest.mark.django_db

EVERY_DONOR = list(itertools.product(DonorKind.values, PublicDisplay.values, (False, True)))


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _gift_of(city, kind: str, public_display: str, has_consent: bool, name: str) -> Donation:
    factory = OrganisationDonorFactory if kind == DonorKind.ORGANISATION else PersonDonorFactory
    donor = factory(
        branch=city, name=name, public_display=public_display,
        full_name_consent_at=timezone.now() if has_consent else None,
    )  # fmt: skip
    return DonationFactory(branch=city, donor=donor, status=DonationStatus.CONFIRMED)


def _stored(gift: Donation) -> str | None:
    return Donation.objects.values_list("public_name", flat=True).get(pk=gift.pk)


def test_the_rule_as_written():
    assert shows_full_name(DonorKind.ORGANISATION, PublicDisplay.MASKED, False)
    assert shows_full_name(DonorKind.ORGANISATION, PublicDisplay.FULL, False)
    assert not shows_full_name(DonorKind.ORGANISATION, PublicDisplay.ANONYMOUS, True)
    assert shows_full_name(DonorKind.PERSON, PublicDisplay.FULL, True)
    assert not shows_full_name(DonorKind.PERSON, PublicDisplay.FULL, False)
    assert not shows_full_name(DonorKind.PERSON, PublicDisplay.MASKED, True)
    assert not shows_full_name(DonorKind.PERSON, PublicDisplay.ANONYMOUS, True)


def test_the_column_the_orm_condition_and_the_rule_agree_for_every_kind_of_donor(city):
    # the inputs are choices: these twelve donors are every case the rule has
    gifts = {case: _gift_of(city, *case, name=f"澜州捐赠人{n:02d}") for n, case in enumerate(EVERY_DONOR)}
    named = set(Donor.objects.filter(full_name_shown()).values_list("pk", flat=True))
    from_donations = set(Donation.objects.filter(full_name_shown("donor__")).values_list("pk", flat=True))
    for case, gift in gifts.items():
        shown = shows_full_name(*case)
        assert _stored(gift) == (gift.donor.name if shown else None), case
        assert (gift.donor_id in named) is shown, case
        assert (gift.pk in from_donations) is shown, case
        public = donor_public_name(gift.donor.kind, gift.donor.name, gift.donor.public_display,
                                   gift.donor.full_name_consent_at)  # fmt: skip
        assert (public == gift.donor.name) is shown, case


@pytest.mark.parametrize(
    ("kind", "public_display", "has_consent", "name", "shown_as"),
    [
        (DonorKind.ORGANISATION, PublicDisplay.MASKED, False, "澜州明德科技有限公司", "澜州明德科技有限公司"),
        (DonorKind.PERSON, PublicDisplay.FULL, True, "张思远", "张思远"),
        (DonorKind.PERSON, PublicDisplay.MASKED, False, "张远", "张*"),
        (DonorKind.PERSON, PublicDisplay.FULL, False, "欧阳明", "欧阳*"),
        (DonorKind.PERSON, PublicDisplay.MASKED, False, "欧阳明轩", "欧阳**"),
        (DonorKind.ORGANISATION, PublicDisplay.ANONYMOUS, False, "澜州隐名实业有限公司", "爱心人士"),
    ],
)
def test_what_the_roll_shows_is_what_its_search_finds(city, kind, public_display, has_consent, name, shown_as):
    gift = _gift_of(city, kind, public_display, has_consent, name)
    shown = shows_full_name(kind, public_display, has_consent)
    assert gift.donor.public_name == shown_as
    assert _stored(gift) == (name if shown else None)
    # the first page shows the name as the rule says; a search by the full name finds the gift only
    # where the page shows it in full (three characters and more through the column, fewer by prefix)
    assert [row.donor_name for row in honor_roll_page(HonorRollFilters()).rows] == [shown_as]
    for query in (name, name[:2]):
        found = honor_roll_page(HonorRollFilters(query=query)).rows
        assert [row.pk for row in found] == ([gift.pk] if shown else []), query


def test_the_column_follows_the_donor_when_consent_is_withdrawn_or_the_name_changes(city):
    gift = _gift_of(city, DonorKind.PERSON, PublicDisplay.FULL, True, "张思远")
    assert _stored(gift) == "张思远"
    donor = gift.donor
    donor.name = "张思源"
    donor.save()
    assert _stored(gift) == "张思源"
    donor.full_name_consent_at = None
    donor.save()
    assert _stored(gift) is None
    assert honor_roll_page(HonorRollFilters(query="张思源")).rows == []
    # a donation saved with the value it read before is put right by the database
    gift.save()
    assert _stored(gift) is None
    other = _gift_of(city, DonorKind.ORGANISATION, PublicDisplay.FULL, False, "澜州明德科技有限公司")
    Donation.objects.filter(pk=gift.pk).update(donor=other.donor)
    assert _stored(gift) == "澜州明德科技有限公司"


def test_the_triggers_sql_is_generated_from_the_rule():
    # a migration must not change once applied, so it holds the SQL as generated when written;
    # when the rule changes, this fails until a new migration replaces the triggers and refills
    migration = importlib.import_module("donations.migrations.0010_public_name_rule")
    assert full_name_sql("d") == migration.PUBLIC_NAME
