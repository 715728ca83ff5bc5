"""The portal's own XLSX template for on-site and in-kind entries (导入模板).

``build_template_workbook()`` makes the file the admin offers for download: two
sheets, a bold header row with a note on every column (the first column's note
holds an example row), choice lists as data validation, text format for codes,
phones and transaction ids so Excel keeps their digits.

Sheet 捐款 (one row per cash donation)::

    捐赠人类型 | 捐赠人名称 | 统一社会信用代码 | 联系电话 | 捐赠渠道 | 渠道交易号 | 到账时间 | 金额（元）|
    募捐活动短名 | 定向受赠单位 | 捐赠意愿 | 备注

Sheet 捐物 (one row per item; rows with the same 捐赠编号 form one donation)::

    捐赠编号 | 捐赠人类型 | 捐赠人名称 | 统一社会信用代码 | 联系电话 | 到账时间 | 物资名称 | 规格型号 | 数量 |
    单位 | 单价（元）| 价值依据 | 有效期至 | 募捐活动短名 | 定向受赠单位 | 捐赠意愿

Donors: a 单位 with a 统一社会信用代码 is the donor registered with that code
(created if new); otherwise donors are matched by name and phone, and a person
without phone by name among the donors imports created.

Idempotency: a row with a 渠道交易号 is a duplicate when (渠道, 渠道交易号) is
registered. 银行转账/微信支付/支付宝 rows must have one. 现场/其他 cash rows and
in-kind donations without one get an id made from their content (donor, time,
amount or items, and the how-many-th identical entry of the file), so importing
the same file again adds nothing while two identical gifts in one file are both
registered (with a warning to check for a double entry).

Cells are read as typed: a formula cell gives its formula text, which is stored
as plain text in text columns and refused in number and date columns; nothing
is ever evaluated.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from donations.imports.base import (
    IMPORTED_DONOR_NOTE,
    MAX_NAME_LENGTH,
    MAX_REMARK_LENGTH,
    ImportFileError,
    ImportReport,
    RowError,
    RowReader,
    clean_text,
    existing_transactions,
    find_header,
    is_blank,
    message_of,
    parse_amount,
    parse_date,
    parse_datetime,
    xlsx_rows,
    xlsx_sheets,
)
from donations.models import Campaign, Channel, DonationKind, Donor, DonorKind, Recipient, ValueBasis
from donations.services.donors import donor_find_or_register
from donations.services.intake import donation_register
from redcross.models import Branch
from redcross.scoping import scope_queryset
from redcross.validators import normalize_cn_phone, normalize_uscc

CASH_SHEET = "捐款"
ITEMS_SHEET = "捐物"
SOURCE = "导入模板"

DONOR_KINDS = {"个人": DonorKind.PERSON, "单位": DonorKind.ORGANISATION}
CHANNELS = {
    "现场": Channel.ON_SITE,
    "银行转账": Channel.BANK,
    "微信支付": Channel.WECHAT,
    "支付宝": Channel.ALIPAY,
    "其他": Channel.OTHER,
}
CHANNELS_NEEDING_ID = {Channel.BANK, Channel.WECHAT, Channel.ALIPAY}
VALUE_BASES = {
    "发票": ValueBasis.INVOICE,
    "报关单": ValueBasis.CUSTOMS,
    "捐赠协议": ValueBasis.AGREEMENT,
    "捐赠函报价": ValueBasis.DONOR_QUOTE,
    "市场价格": ValueBasis.MARKET_PRICE,
    "评估": ValueBasis.APPRAISAL,
    "无": ValueBasis.NONE,
    "无价值凭证": ValueBasis.NONE,
}

# (key, header, note shown on the header cell, example value)
CASH_SPEC = (
    ("donor_kind", "捐赠人类型", "必填：个人 或 单位", "单位"),
    ("donor_name", "捐赠人名称", "必填：个人姓名或单位全称", "澜州示例科技有限公司"),
    ("credit_code", "统一社会信用代码", "单位填写（18 位）；个人不填", "91330100MA27XXXXXX"),
    ("phone", "联系电话", "选填：手机或座机", "13800000000"),
    ("channel", "捐赠渠道", "必填：现场 / 银行转账 / 微信支付 / 支付宝 / 其他", "银行转账"),
    ("transaction_id", "渠道交易号", "银行、微信、支付宝必填（流水号、订单号）；现场可填收据号", "BK20200201001"),
    ("received_at", "到账时间", "必填：如 2020-02-01 10:00", "2020-02-01 10:00"),
    ("amount", "金额（元）", "必填：元，最多两位小数，不能用公式", "10000.00"),
    ("campaign", "募捐活动短名", "选填：不填则记入导入时选择的募捐活动", "covid-2020"),
    ("recipient", "定向受赠单位", "选填：已登记的受赠单位名称", "澜州市第一人民医院"),
    ("wish", "捐赠意愿", "选填", "用于抗击疫情"),
    ("note", "备注", "选填：内部备注", ""),
)
ITEMS_SPEC = (
    ("group", "捐赠编号", "必填：本表内的编号；同一编号的多行是同一笔捐赠的多项物资", "1"),
    ("donor_kind", "捐赠人类型", "必填：个人 或 单位", "单位"),
    ("donor_name", "捐赠人名称", "必填", "澜州示例医药有限公司"),
    ("credit_code", "统一社会信用代码", "单位填写；个人不填", "91330100MA27YYYYYY"),
    ("phone", "联系电话", "选填", "0571-86001234"),
    ("received_at", "到账时间", "必填：物资到达时间", "2020-02-01 14:00"),
    ("item_name", "物资名称", "必填", "医用外科口罩"),
    ("specification", "规格型号", "选填", "17.5cm×9.5cm 50只/盒"),
    ("quantity", "数量", "必填：大于零，最多三位小数", "200"),
    ("unit", "单位", "必填：如 盒、箱、件", "盒"),
    ("unit_value", "单价（元）", "有价值依据时必填", "45.00"),
    ("value_basis", "价值依据", "发票 / 报关单 / 捐赠协议 / 捐赠函报价 / 市场价格 / 评估 / 无", "发票"),
    ("expiry_date", "有效期至", "选填：如 2022-12-31", "2022-12-31"),
    ("campaign", "募捐活动短名", "选填", "covid-2020"),
    ("recipient", "定向受赠单位", "选填", ""),
    ("wish", "捐赠意愿", "选填", ""),
)
CHOICES = {
    "donor_kind": list(DONOR_KINDS),
    "channel": list(CHANNELS),
    "value_basis": ["发票", "报关单", "捐赠协议", "捐赠函报价", "市场价格", "评估", "无"],
}
TEXT_COLUMNS = {"credit_code", "phone", "transaction_id", "group"}
DATE_COLUMNS = {"received_at": "yyyy-mm-dd hh:mm", "expiry_date": "yyyy-mm-dd"}
MONEY_COLUMNS = {"amount", "unit_value"}
TEMPLATE_ROWS = 2000  # rows covered by data validation and formats


def _columns(spec) -> dict[str, tuple[str, ...]]:
    columns = {key: (header,) for key, header, _note, _example in spec}
    columns["donor_kind"] = ("捐赠人类型", "捐赠人类型（个人/单位）")
    if "amount" in columns:
        columns["amount"] = ("金额（元）", "金额")
    if "unit_value" in columns:
        columns["unit_value"] = ("单价（元）", "单价")
    return columns


CASH_COLUMNS = _columns(CASH_SPEC)
ITEMS_COLUMNS = _columns(ITEMS_SPEC)
CASH_REQUIRED = ("donor_kind", "donor_name", "channel", "received_at", "amount")
ITEMS_REQUIRED = ("group", "donor_kind", "donor_name", "received_at", "item_name", "quantity", "unit")


# --- the template file --------------------------------------------------------------------


def write_template_sheet(
    sheet,
    spec,
    *,
    choices: dict[str, list[str]],
    text_columns: set[str],
    date_columns: dict[str, str],
    money_columns: set[str],
    rows: int = 2000,
) -> None:
    """One sheet of an import template: a bold header with a note on every column (the first
    column's note holds an example row), choice lists as data validation, text format for codes and
    phones so Excel keeps their digits. ``spec``: (key, header, note, example) per column."""
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FDE9E7")
    example = " | ".join(f"{header}：{value or '（空）'}" for _key, header, _note, value in spec)
    for column, (key, header, note, _example) in enumerate(spec, start=1):
        cell = sheet.cell(row=1, column=column, value=header)
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
        text = note if column > 1 else f"{note}\n\n示例行：\n{example}"
        cell.comment = Comment(text, "红十字会信息平台", width=320, height=220 if column == 1 else 80)
        letter = get_column_letter(column)
        sheet.column_dimensions[letter].width = max(12, len(header) * 2 + 4)
        cells = f"{letter}2:{letter}{rows + 1}"
        if key in choices:
            validation = DataValidation(
                type="list",
                formula1='"' + ",".join(choices[key]) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="请从列表中选择",
                error="可选：" + "、".join(choices[key]),
            )
            validation.add(cells)
            sheet.add_data_validation(validation)
        if key in text_columns:
            sheet.column_dimensions[letter].number_format = "@"
        elif key in date_columns:
            sheet.column_dimensions[letter].number_format = date_columns[key]
        elif key in money_columns:
            sheet.column_dimensions[letter].number_format = "0.00"
    sheet.freeze_panes = "A2"


def build_template_workbook() -> bytes:
    """The XLSX template the admin offers for download."""
    from openpyxl import Workbook

    workbook = Workbook()
    for index, (title, spec) in enumerate(((CASH_SHEET, CASH_SPEC), (ITEMS_SHEET, ITEMS_SPEC))):
        sheet = workbook.active if index == 0 else workbook.create_sheet()
        sheet.title = title
        write_template_sheet(
            sheet,
            spec,
            choices=CHOICES,
            text_columns=TEXT_COLUMNS,
            date_columns=DATE_COLUMNS,
            money_columns=MONEY_COLUMNS,
            rows=TEMPLATE_ROWS,
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- reading ------------------------------------------------------------------------------


@dataclass
class DonorFields:
    kind: str
    name: str
    credit_code: str
    phone: str

    def key(self) -> tuple[str, ...]:
        return (self.kind, self.name, normalize_uscc(self.credit_code) if self.credit_code else "", self.phone)


@dataclass
class TemplateDonation:
    sheet: str
    line: int  # first row of the donation
    lines: list[int]
    donor: DonorFields
    channel: str
    transaction_id: str  # as typed; "" when generated
    received_at: datetime
    amount: Decimal | None
    items: list[dict[str, Any]]
    campaign_slug: str
    recipient_name: str
    wish: str
    note: str
    key: str = ""  # the channel transaction id used (typed or generated)

    def content(self) -> str:
        items = sorted(
            "|".join(str(item.get(k) or "") for k in ("name", "specification", "quantity", "unit", "unit_value"))
            for item in self.items
        )
        return "\x1f".join(
            [
                self.sheet,
                *self.donor.key(),
                self.channel,
                self.received_at.isoformat(),
                str(self.amount or ""),
                *items,
                self.campaign_slug,
                self.recipient_name,
                self.wish,
                self.note,
            ]
        )


def _label(sheet: str, text: str) -> str:
    return f"[{sheet}] {text}"


def _choice(value: str, choices: dict[str, str], label: str) -> str:
    if value not in choices:
        raise RowError(
            _("%(label)s不正确：%(value)s（可选：%(choices)s）") % {
                "label": label, "value": value[:20] or "（空）", "choices": "、".join(choices)}
        )  # fmt: skip
    return choices[value]


def _donor(reader: RowReader) -> DonorFields:
    kind = _choice(reader.text("donor_kind"), DONOR_KINDS, _l("捐赠人类型"))
    name = clean_text(reader.text("donor_name"), label=_l("捐赠人名称"), max_length=MAX_NAME_LENGTH)
    if not name:
        raise RowError(_("缺少捐赠人名称"))
    code = clean_text(reader.text("credit_code"), label=_l("统一社会信用代码"), max_length=30)
    phone = clean_text(reader.text("phone"), label=_l("联系电话"), max_length=40)
    return DonorFields(kind=kind, name=name, credit_code=code, phone=normalize_cn_phone(phone) if phone else "")


def _quantity(value: Any) -> Any:
    if isinstance(value, float):
        exact = Decimal(repr(value))
        rounded = exact.quantize(Decimal("0.001")) if abs(exact) < 10**12 else exact
        return rounded if abs(exact - rounded) < Decimal("0.000000001") else exact
    if isinstance(value, str):
        return value.strip()
    return value


def _cash_row(reader: RowReader, line: int) -> TemplateDonation:
    donor = _donor(reader)
    channel = _choice(reader.text("channel"), CHANNELS, _l("捐赠渠道"))
    transaction_id = clean_text(reader.text("transaction_id"), label=_l("渠道交易号"), max_length=64)
    if not transaction_id and channel in CHANNELS_NEEDING_ID:
        raise RowError(_("银行转账、微信支付、支付宝的捐款须填写渠道交易号"))
    return TemplateDonation(
        sheet=CASH_SHEET,
        line=line,
        lines=[line],
        donor=donor,
        channel=channel,
        transaction_id=transaction_id,
        received_at=parse_datetime(reader.raw("received_at")),
        amount=parse_amount(reader.raw("amount")),
        items=[],
        campaign_slug=clean_text(reader.text("campaign"), label=_l("募捐活动短名"), max_length=60),
        recipient_name=clean_text(reader.text("recipient"), label=_l("定向受赠单位"), max_length=200),
        wish=clean_text(reader.text("wish"), label=_l("捐赠意愿"), max_length=MAX_REMARK_LENGTH, multiline=True),
        note=clean_text(reader.text("note"), label=_l("备注"), max_length=MAX_REMARK_LENGTH, multiline=True),
    )


def _item_row(reader: RowReader) -> dict[str, Any]:
    unit_value = reader.raw("unit_value")
    basis_text = reader.text("value_basis")
    return {
        "name": clean_text(reader.text("item_name"), label=_l("物资名称"), max_length=120),
        "specification": clean_text(reader.text("specification"), label=_l("规格型号"), max_length=120),
        "quantity": _quantity(reader.raw("quantity")),
        "unit": clean_text(reader.text("unit"), label=_l("单位"), max_length=20),
        "unit_value": None if unit_value in (None, "") else parse_amount(unit_value, _l("单价")),
        "value_basis": _choice(basis_text, VALUE_BASES, _l("价值依据")) if basis_text else ValueBasis.NONE,
        "expiry_date": parse_date(reader.raw("expiry_date"), _l("有效期至")),
    }


@dataclass
class _Group:
    number: str
    donation: TemplateDonation | None = None
    errors: list[tuple[int, str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


def _group_fields(reader: RowReader, line: int) -> TemplateDonation:
    return TemplateDonation(
        sheet=ITEMS_SHEET,
        line=line,
        lines=[],  # one per item, filled by read_template()
        donor=_donor(reader),
        channel=Channel.ON_SITE,
        transaction_id="",
        received_at=parse_datetime(reader.raw("received_at")),
        amount=None,
        items=[],
        campaign_slug=clean_text(reader.text("campaign"), label=_l("募捐活动短名"), max_length=60),
        recipient_name=clean_text(reader.text("recipient"), label=_l("定向受赠单位"), max_length=200),
        wish=clean_text(reader.text("wish"), label=_l("捐赠意愿"), max_length=MAX_REMARK_LENGTH, multiline=True),
        note="",
    )


def _same_group(first: TemplateDonation, reader: RowReader, line: int) -> None:
    """Later rows of a group may leave the donation's fields empty, or repeat them exactly."""
    checks = (
        ("donor_kind", "捐赠人类型"),
        ("donor_name", "捐赠人名称"),
        ("credit_code", "统一社会信用代码"),
        ("phone", "联系电话"),
        ("received_at", "到账时间"),
        ("campaign", "募捐活动短名"),
        ("recipient", "定向受赠单位"),
        ("wish", "捐赠意愿"),
    )
    if all(not reader.text(key) for key, _label in checks):
        return
    other = _group_fields(reader, line)
    for (key, label), mine, theirs in zip(
        checks,
        (first.donor.kind, first.donor.name, first.donor.credit_code, first.donor.phone, first.received_at,
         first.campaign_slug, first.recipient_name, first.wish),
        (other.donor.kind, other.donor.name, other.donor.credit_code, other.donor.phone, other.received_at,
         other.campaign_slug, other.recipient_name, other.wish),
        strict=True,
    ):  # fmt: skip
        if reader.text(key) and mine != theirs:
            raise RowError(_("同一捐赠编号的%(label)s与第 %(line)d 行不一致") % {"label": label, "line": first.line})


def read_template(data: bytes) -> tuple[list[TemplateDonation], list[tuple[int, str]]]:
    """All donations of the template file and the rows rejected while reading; raises ImportFileError."""
    workbook = xlsx_sheets(data)
    names = set(workbook.sheetnames)
    if CASH_SHEET not in names and ITEMS_SHEET not in names:
        raise ImportFileError(_("不是本平台的导入模板：缺少工作表“捐款”和“捐物”；请在管理后台下载模板"))
    donations: list[TemplateDonation] = []
    rejected: list[tuple[int, str]] = []
    if CASH_SHEET in names:
        rows = xlsx_rows(workbook[CASH_SHEET])
        header = find_header(rows, columns=CASH_COLUMNS, required=CASH_REQUIRED, format_label="导入模板“捐款”工作表")
        for line, cells in rows:
            if is_blank(cells):
                continue
            try:
                donations.append(_cash_row(RowReader(header, cells), line))
            except RowError as exc:
                rejected.append((line, _label(CASH_SHEET, exc.reason)))
    if ITEMS_SHEET in names:
        rows = xlsx_rows(workbook[ITEMS_SHEET])
        header = find_header(rows, columns=ITEMS_COLUMNS, required=ITEMS_REQUIRED, format_label="导入模板“捐物”工作表")
        groups: dict[str, _Group] = {}
        for line, cells in rows:
            if is_blank(cells):
                continue
            reader = RowReader(header, cells)
            number = reader.text("group")
            if not number:
                rejected.append((line, _label(ITEMS_SHEET, _("缺少捐赠编号"))))
                continue
            group = groups.setdefault(number, _Group(number=number))
            group.lines.append(line)
            try:
                if group.donation is None and not group.errors:
                    group.donation = _group_fields(reader, line)
                elif group.donation is not None:
                    _same_group(group.donation, reader, line)
                item = _item_row(reader)
            except RowError as exc:
                group.errors.append((line, exc.reason))
                continue
            if group.donation is not None:
                group.donation.items.append(item)
                group.donation.lines.append(line)
        for group in groups.values():
            if group.errors or group.donation is None:
                for line, reason in group.errors:
                    rejected.append(
                        (line, _label(ITEMS_SHEET, _("%(reason)s（捐赠编号 %(n)s 整笔未导入）") % {
                            "reason": reason, "n": group.number[:20]}))
                    )  # fmt: skip
                continue
            donations.append(group.donation)
    workbook.close()
    return donations, rejected


# --- registering --------------------------------------------------------------------------


def _assign_keys(donations: list[TemplateDonation], report: ImportReport) -> list[TemplateDonation]:
    """Give each donation its channel transaction id; drop and count duplicates inside the file."""
    unique: list[TemplateDonation] = []
    typed: dict[tuple[str, str], TemplateDonation] = {}
    occurrences: dict[str, list[TemplateDonation]] = {}
    for donation in donations:
        if donation.transaction_id:
            donation.key = donation.transaction_id
            first = typed.get((donation.channel, donation.key))
            if first is None:
                typed[(donation.channel, donation.key)] = donation
                unique.append(donation)
            elif first.content() == donation.content():
                report.duplicates += 1
            else:
                report.rejected.append(
                    (donation.line, _label(donation.sheet, _("渠道交易号 %(id)s 与第 %(first)d 行相同但内容不同") % {
                        "id": donation.key, "first": first.line}))
                )  # fmt: skip
            continue
        content = donation.content()
        same = occurrences.setdefault(content, [])
        digest = hashlib.sha256(f"{content}\x1e{len(same)}".encode()).hexdigest()[:28]
        donation.key = f"TPL-{digest}"
        if same:
            warning = _("[%(sheet)s] 第 %(line)d 行与第 %(first)d 行内容相同且无渠道交易号，均已导入")
            report.warnings.append(
                warning % {"sheet": donation.sheet, "line": donation.line, "first": same[0].line}
                + _("；如为重复录入，请删除其中一笔")
            )
        same.append(donation)
        unique.append(donation)
    return unique


class TemplateDonors:
    """Donors of template rows, as ``donor_match`` finds them (credit code, else name and phone, else
    name), or registered; cached per import."""

    def __init__(self, *, by, branch: Branch, report: ImportReport) -> None:
        self.by = by
        self.branch = branch
        self.report = report
        self.cache: dict[tuple[str, ...], Donor] = {}

    def get(self, fields: DonorFields, line: int, sheet: str) -> tuple[Donor, bool]:
        key = fields.key()
        donor = self.cache.get(key)
        if donor is not None:
            return donor, False
        donor, created = self._find_or_register(fields, line, sheet)
        self.cache[key] = donor
        return donor, created

    def forget(self, fields: DonorFields) -> None:
        self.cache.pop(fields.key(), None)

    def _find_or_register(self, fields: DonorFields, line: int, sheet: str) -> tuple[Donor, bool]:
        donor, created = donor_find_or_register(
            by=self.by,
            branch=self.branch,
            kind=fields.kind,
            name=fields.name,
            phone=fields.phone,
            credit_code=fields.credit_code,
            # for the staff reading a person donor: where it came from (the marker is the field)
            note=f"{IMPORTED_DONOR_NOTE}（{SOURCE}）" if fields.kind == DonorKind.PERSON else "",
        )
        if not created and fields.credit_code and donor.name != fields.name:
            code = normalize_uscc(fields.credit_code)
            warning = _("[%(sheet)s] 第 %(line)d 行：信用代码 %(code)s 已登记为“%(old)s”")
            warning %= {"sheet": sheet, "line": line, "code": code, "old": donor.name}
            self.report.warnings.append(warning + _("，已按代码归入（本行为“%(new)s”）") % {"new": fields.name})
        return donor, created


class _Lookups:
    def __init__(self, *, by, branch: Branch) -> None:
        self.by = by
        self.branch = branch
        self.campaigns: dict[str, Campaign | None] = {}
        self.recipients: dict[str, Recipient | str] = {}

    def campaign(self, slug: str, default: Campaign) -> Campaign:
        if not slug:
            return default
        if slug not in self.campaigns:
            self.campaigns[slug] = Campaign.objects.select_related("branch").filter(slug=slug).first()
        campaign = self.campaigns[slug]
        if campaign is None:
            raise RowError(_("募捐活动不存在：%(slug)s") % {"slug": slug[:60]})
        return campaign

    def recipient(self, name: str) -> Recipient | None:
        if not name:
            return None
        if name not in self.recipients:
            found = list(scope_queryset(Recipient.objects.filter(name=name, is_active=True), self.by))
            own = [r for r in found if r.branch_id == self.branch.pk]
            if own or len(found) == 1:
                self.recipients[name] = (own or found)[0]
            else:
                missing = _("定向受赠单位不存在：%(name)s")
                self.recipients[name] = _("定向受赠单位名称不唯一：%(name)s") if found else missing
        recipient = self.recipients[name]
        if isinstance(recipient, str):
            raise RowError(recipient % {"name": name[:60]})
        return recipient


_ITEM_KEY = re.compile(r"^items\[(\d+)\]\.")


def _service_errors(exc: ValidationError, donation: TemplateDonation) -> list[tuple[int, str]]:
    """A service error on the row; an item's error on that item's row."""
    if not hasattr(exc, "error_dict"):
        return [(donation.line, _label(donation.sheet, message_of(exc)))]
    out = []
    for key, errors in exc.error_dict.items():
        match = _ITEM_KEY.match(key)
        index = int(match.group(1)) if match else -1
        line = donation.lines[index] if 0 <= index < len(donation.lines) else donation.line
        reason = "；".join(message for error in errors for message in error.messages)
        if donation.sheet == ITEMS_SHEET:
            reason = _("%(reason)s（整笔未导入）") % {"reason": reason}
        out.append((line, _label(donation.sheet, reason)))
    return out


def import_template(data: bytes, *, by, branch: Branch, campaign: Campaign) -> ImportReport:
    report = ImportReport()
    donations, rejected = read_template(data)
    report.rejected.extend(rejected)
    unique = _assign_keys(donations, report)
    existing: dict[str, dict[str, Decimal | None]] = {}
    for channel in {donation.channel for donation in unique}:
        existing[channel] = existing_transactions(channel, [d.key for d in unique if d.channel == channel])
    donors = TemplateDonors(by=by, branch=branch, report=report)
    lookups = _Lookups(by=by, branch=branch)

    for donation in unique:
        registered = existing[donation.channel]
        if donation.key in registered:
            if registered[donation.key] == donation.amount:
                report.duplicates += 1
            else:
                reason = _("渠道交易号 %(id)s 已登记，但金额不同") % {"id": donation.key}
                report.rejected.append((donation.line, _label(donation.sheet, reason)))
            continue
        created = False
        note_lines = [_("%(source)s导入（%(sheet)s表第 %(line)d 行）") % {
            "source": SOURCE, "sheet": donation.sheet, "line": donation.line}]  # fmt: skip
        if donation.note:
            note_lines.append(_("备注：%(note)s") % {"note": donation.note})
        try:
            row_campaign = lookups.campaign(donation.campaign_slug, campaign)
            recipient = lookups.recipient(donation.recipient_name)
            with transaction.atomic():
                donor, created = donors.get(donation.donor, donation.line, donation.sheet)
                donation_register(
                    by=by,
                    branch=branch,
                    donor=donor,
                    campaign=row_campaign,
                    kind=DonationKind.CASH if donation.amount is not None else DonationKind.IN_KIND,
                    channel=donation.channel,
                    received_at=donation.received_at,
                    amount=donation.amount,
                    items=donation.items,
                    channel_transaction_id=donation.key,
                    designated_recipient=recipient,
                    wish=donation.wish,
                    note="\n".join(note_lines),
                )
        except RowError as exc:
            report.rejected.append((donation.line, _label(donation.sheet, exc.reason)))
        except ValidationError as exc:
            if created:
                donors.forget(donation.donor)
            report.rejected.extend(_service_errors(exc, donation))
        except IntegrityError:
            if created:
                donors.forget(donation.donor)
            report.rejected.append((donation.line, _label(donation.sheet, _("数据库拒绝了本行，请核对后手工登记"))))
        else:
            report.imported += 1
            registered[donation.key] = donation.amount
    return report
