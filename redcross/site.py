"""Facts about the portal's own organisation, shared by public pages, admin and PDFs."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

PORTAL_FACTS_CACHE_KEY = "redcross:portal-facts"
_FACT_FIELDS = (
    "name",
    "address",
    "phone",
    "email",
    "public_fundraising_certificate",
    "unified_social_credit_code",
    "bank_account_name",
    "bank_name",
    "bank_account_number",
)


def portal_facts() -> dict[str, str]:
    """The city branch's public facts (cached for a minute; emptied when a branch is saved)."""
    facts = cache.get(PORTAL_FACTS_CACHE_KEY)
    if facts is None:
        from redcross.selectors import city_branch

        city = city_branch()
        facts = {field: getattr(city, field) if city else "" for field in _FACT_FIELDS}
        facts["name"] = facts["name"] or settings.PORTAL_DEFAULT_NAME
        cache.set(PORTAL_FACTS_CACHE_KEY, facts, 60)
    return facts


def portal_name() -> str:
    return portal_facts()["name"]


def forget_portal_name() -> None:
    cache.delete(PORTAL_FACTS_CACHE_KEY)
