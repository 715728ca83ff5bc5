"""The importer's entry point: check who may import where, read the file, pick the parser by
format, and hand the parsed rows to the writer (``base.import_cash_statement``) or the portal's
template importer. The parsers and the template importer import ``base`` for their helpers; this
module sits above all of them, so none of them imports back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from donations.imports import alipay, bank, wechat
from donations.imports.base import (
    FORMATS,
    ImportFileError,
    ImportReport,
    ParsedStatement,
    import_cash_statement,
    message_of,
    read_bytes,
)
from donations.imports.template import import_template
from donations.models import Campaign, StatementMapping
from donations.services.campaigns import campaign_for_new_donation, regular_campaign
from donations.services.statement_mappings import branch_column_mappings, column_mapping
from redcross.audit import audit_context
from redcross.models import Branch
from redcross.scoping import ensure_branch_access


def _check_campaign(campaign: Campaign, branch: Branch) -> Campaign:
    if not branch.is_within(campaign.branch):
        raise ImportFileError(_("募捐活动“%(name)s”不属于本组织或上级组织") % {"name": campaign.name})
    try:
        return campaign_for_new_donation(campaign)
    except ValidationError as exc:
        raise ImportFileError(message_of(exc)) from None


def _parsers() -> dict[str, Callable[[bytes], ParsedStatement]]:
    return {"wechat": wechat.parse, "alipay": alipay.parse}


def parse_bank_statement(data: bytes, *, branch: Branch, mapping: StatementMapping | None = None) -> ParsedStatement:
    """A bank statement read with ``mapping`` only, or else with the branch's saved mappings and then
    the built-in column names; nothing is written."""
    if mapping is not None:
        if mapping.pk is not None and mapping.branch_id != branch.pk:
            raise ImportFileError(_("列映射“%(name)s”不属于接收组织") % {"name": mapping.name})
        return bank.parse(data, mappings=[column_mapping(mapping)], builtin=False)
    return bank.parse(data, mappings=branch_column_mappings(branch))


def import_statement(
    *,
    path_or_file: Any,
    fmt: str,
    by,
    branch: Branch,
    campaign: Campaign | None = None,
    mapping: StatementMapping | None = None,
) -> ImportReport:
    """Import a statement file; see the module docstring for what is rejected whole.

    ``campaign`` defaults to the branch's regular giving (日常捐赠). A bank statement is read with
    ``mapping`` if given, else with the branch's saved mapping for its header, else by its column
    names. Raises ``ImportFileError`` for a file rejected whole (nothing written; for a bank
    header nobody knows, ``HeaderNotRecognised`` with the file's first rows) and
    ``PermissionDenied`` when ``by`` may not import for ``branch``.
    """
    if fmt not in FORMATS:
        raise ImportFileError(
            _("未知的格式：%(fmt)s（可选：%(formats)s）") % {"fmt": fmt, "formats": ", ".join(FORMATS)}
        )
    if not by.has_perm("donations.import_donation"):
        raise PermissionDenied(_("您没有导入捐赠对账单的权限"))
    ensure_branch_access(by, branch)
    if mapping is not None and fmt != "bank":
        raise ImportFileError(_("列映射只用于银行对账单"))
    campaign = _check_campaign(campaign if campaign is not None else regular_campaign(branch), branch)
    data = read_bytes(path_or_file)
    with audit_context(user=by, reason=f"import_donations: {fmt}"):
        if fmt == "template":
            return import_template(data, by=by, branch=branch, campaign=campaign)
        if fmt == "bank":
            statement = parse_bank_statement(data, branch=branch, mapping=mapping)
        else:
            statement = _parsers()[fmt](data)
        return import_cash_statement(statement, by=by, branch=branch, campaign=campaign)
