"""Saved column mappings for bank statements (``StatementMapping``): saving one, and the ones an
import of a branch tries.

A mapping belongs to one branch (the receiving branch of the imports it serves); whoever may import
statements for that branch may save one. Every save is audited (simple_history, ``audit_context``).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from donations.imports.base import ColumnMapping, header_signature
from donations.models import StatementMapping
from redcross.audit import audit_context
from redcross.models import Branch
from redcross.scoping import ensure_branch_access


def statement_mapping_save(*, mapping: StatementMapping, by) -> StatementMapping:
    """Create or change a column mapping; raises ValidationError naming the field, or PermissionDenied."""
    if not by.has_perm("donations.import_donation"):
        raise PermissionDenied(_("您没有导入捐赠对账单的权限"))
    ensure_branch_access(by, mapping.branch_id)
    if mapping.pk is not None:
        before = StatementMapping.objects.filter(pk=mapping.pk).values_list("branch_id", flat=True).first()
        ensure_branch_access(by, before)  # a mapping of another branch cannot be moved into one's own
    else:
        mapping.created_by = by
    mapping.name = (mapping.name or "").strip()
    mapping.bank_account = (mapping.bank_account or "").strip()
    if isinstance(mapping.header, list):
        mapping.header_signature = header_signature(mapping.header)
    mapping.full_clean()
    with transaction.atomic(), audit_context(user=by, reason="statement_mapping_save"):
        mapping.save()
    return mapping


def column_mapping(mapping: StatementMapping) -> ColumnMapping:
    """A mapping (saved, or being made in the admin) as the bank parser uses it."""
    signature = mapping.header_signature or header_signature(mapping.header)
    return ColumnMapping(name=mapping.name, signature=signature, index=mapping.parser_index())


def branch_column_mappings(branch: Branch) -> list[ColumnMapping]:
    """The active mappings an import for ``branch`` tries before the built-in column names."""
    mappings = StatementMapping.objects.filter(branch=branch, is_active=True).order_by("-created_at", "-pk")
    return [column_mapping(mapping) for mapping in mappings]


def statement_mapping_named(branch: Branch, name: str) -> StatementMapping | None:
    return StatementMapping.objects.filter(branch=branch, name=name.strip()).first()
