"""Building blocks of the donations app's staff API: its input limits and the fields that offer
the user's own recipients, lots and warehouses (the generic pieces are in ``redcross.api``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from donations.models import (
    DonationItem,
    Recipient,
    Warehouse,
)
from redcross.api import ScopedRelatedField

QUANTITY_TEXT = {"max_length": 32}


MAX_LINES = 500


def recipient_field(**kwargs):
    return ScopedRelatedField(base_queryset=Recipient.objects.filter(is_active=True), label=_("受赠单位"), **kwargs)


def lot_field(**kwargs):
    return ScopedRelatedField(
        base_queryset=DonationItem.objects.all(), branch_field="donation__branch", label=_("物资批次"), **kwargs
    )


def warehouse_field(**kwargs):
    return ScopedRelatedField(base_queryset=Warehouse.objects.filter(is_active=True), **kwargs)
