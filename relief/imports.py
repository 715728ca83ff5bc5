"""The roster import (救助对象花名册导入): a surge's household list, one row per person or household,
registered as beneficiaries and applications to one project in one upload.

A winter-warmth project (博爱送温暖) gets its 1,700 households from the districts as spreadsheets;
typing them one by one would take the week the surge has. Each row goes through the same services
as the admin's register page (``beneficiary_find_or_register`` then ``application_register``), in
its own transaction: a row is registered whole or not at all, and a refused row is listed with its
line and the column the service named, while the other rows go on.

- The ID number is required in a roster: it is what makes importing the same file again add
  nothing (the same ID number is the same beneficiary, who has already applied) and what keeps one
  household from being registered twice under two districts' lists.
- A row whose phone, or name and birth date, matches another beneficiary is registered and its
  suspicion goes to the duplicate queue, as on the register page; the report gives its line only.
- ``dry_run`` checks the whole file and rolls everything back: the report says what an import
  would do.
- Cells are read as typed; a formula is stored as its text in text columns and refused elsewhere;
  nothing is evaluated. Reading (XLSX, header, cells, dates, amounts) is the donations import's.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from donations.imports.base import (
    RowError,
    RowReader,
    clean_text,
    find_header,
    is_blank,
    message_of,
    parse_amount,
    parse_date,
    xlsx_rows,
    xlsx_sheets,
)
from donations.imports.template import write_template_sheet
from redcross.models import Branch
from redcross.scoping import visible_branches
from relief.models import AidUnit, BeneficiaryKind, Project
from relief.services.applications import application_register
from relief.services.beneficiaries import beneficiary_find_or_register

ROSTER_SHEET = "救助对象花名册"
MAX_ROSTER_ROWS = 1000  # one upload must finish inside the web server's 30-second timeout (docs/relief.md)

KINDS = {"家庭": BeneficiaryKind.HOUSEHOLD, "个人": BeneficiaryKind.PERSON}
SEXES = {"男": "male", "女": "female"}

# (key, header, note shown on the header cell, example value); examples are invented
ROSTER_SPEC = (
    ("district", "所在区县", "必填：区县红十字会名称或代码，如 东湖区红十字会", "东湖区红十字会"),
    ("kind", "申请类型", "家庭 或 个人；不填按项目的救助对象", "家庭"),
    ("name", "姓名", "必填：个人姓名；家庭填户主姓名", "张示例"),
    ("id_number", "身份证号码", "必填：18 位居民身份证号码，用于核对身份、避免重复救助", ""),
    ("phone", "联系电话", "选填：手机或座机", ""),
    ("birth_date", "出生日期", "选填：须与身份证号码一致", ""),
    ("sex", "性别", "选填：男 或 女", ""),
    ("address", "住址", "选填", "东湖区示例街道 1 号"),
    (
        "members",
        "家庭成员",
        "选填，仅家庭：每人“姓名,关系,身份证号码”，多人用分号隔开；无身份证号码的成员可只写姓名和关系",
        "李示例,配偶；张小示,子女",
    ),
    ("situation", "困难情况", "必填：家庭人口、收入、疾病或受灾情况（仅负责审核的工作人员可见）", "低保户，三口人"),
    ("illness", "疾病情况", "选填（仅救助工作人员可见）", ""),
    ("income", "家庭收入情况", "选填（仅救助工作人员可见）", ""),
    ("disability", "残疾情况", "选填（仅救助工作人员可见）", ""),
    ("requested_amount", "申请金额（元）", "选填：不超过项目每人（户）限额；不填按审批时的决定", "500.00"),
)
ROSTER_COLUMNS = {key: (header,) for key, header, _note, _example in ROSTER_SPEC}
ROSTER_COLUMNS["requested_amount"] = ("申请金额（元）", "申请金额", "救助金额（元）", "救助金额")
ROSTER_COLUMNS["name"] = ("姓名", "户主姓名", "户主")
ROSTER_REQUIRED = ("district", "name", "id_number", "situation")
ROSTER_LABELS = {key: header for key, header, _note, _example in ROSTER_SPEC}

_MEMBER_SEPARATOR = re.compile(r"[;；\n]+")
_PART_SEPARATOR = re.compile(r"[,，、]")


def build_roster_template() -> bytes:
    """The roster's XLSX template the admin offers for download."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = ROSTER_SHEET
    write_template_sheet(
        sheet,
        ROSTER_SPEC,
        choices={"kind": list(KINDS), "sex": list(SEXES)},
        text_columns={"district", "id_number", "phone"},
        date_columns={"birth_date": "yyyy-mm-dd"},
        money_columns={"requested_amount"},
        rows=MAX_ROSTER_ROWS,
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@dataclass
class RosterReport:
    dry_run: bool = False
    registered: int = 0  # applications registered (or, on a dry run, that would be)
    new_beneficiaries: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, why): already applied, twice in the file
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, "column: what is wrong")
    suspected_duplicates: list[int] = field(default_factory=list)  # lines whose suspicion went to the queue
    stopped: str = ""  # why the import stopped before the end (the project closed meanwhile)

    def lines(self, *, max_rejected: int | None = None) -> list[str]:
        out = [
            _("新登记申请 %(registered)d 份（新受助人 %(new)d 个），跳过 %(skipped)d 行，未导入 %(rejected)d 行")
            % {
                "registered": self.registered,
                "new": self.new_beneficiaries,
                "skipped": len(self.skipped),
                "rejected": len(self.rejected),
            }
        ]
        if self.stopped:
            out.append(self.stopped)
        rejected = sorted(self.rejected)
        shown = rejected if max_rejected is None else rejected[:max_rejected]
        out.extend(_("第 %(line)d 行：%(reason)s") % {"line": line, "reason": reason} for line, reason in shown)
        if len(shown) < len(rejected):
            out.append(_("……另有 %(n)d 行未导入") % {"n": len(rejected) - len(shown)})
        out.extend(
            _("第 %(line)d 行跳过：%(reason)s") % {"line": line, "reason": reason} for line, reason in self.skipped
        )
        if self.suspected_duplicates:
            listed = "、".join(str(line) for line in self.suspected_duplicates[:50])
            out.append(_("疑似与已登记的受助人重复、已转复核的行：%(lines)s") % {"lines": listed})
        return out


@dataclass
class _Row:
    line: int
    district: Branch
    kind: str
    name: str
    id_number: str
    phone: str
    birth_date: Any
    sex: str
    address: str
    members: list[dict[str, str]]
    situation: str
    illness: str
    income: str
    disability: str
    requested_amount: Any


def _label(key: str) -> str:
    """The roster column a service's error key stands for: ``members[1].id_number`` → 家庭成员第 2 人身份证号码."""
    match = re.fullmatch(r"members\[(\d+)\]\.(\w+)", key)
    if match:
        return _("家庭成员第 %(n)d 人%(label)s") % {
            "n": int(match.group(1)) + 1,
            "label": ROSTER_LABELS.get(match.group(2), _("关系") if match.group(2) == "relation" else ""),
        }
    return ROSTER_LABELS.get(key, "")


def _service_error(exc: ValidationError) -> str:
    if not hasattr(exc, "error_dict"):
        return message_of(exc)
    parts = []
    for key, errors in exc.message_dict.items():
        label = _label(key)
        text = "；".join(errors)
        parts.append(f"{label}：{text}" if label else text)
    return "；".join(parts)


def _members(text: str) -> list[dict[str, str]]:
    members = []
    for entry in _MEMBER_SEPARATOR.split(text):
        if not entry.strip():
            continue
        parts = [part.strip() for part in _PART_SEPARATOR.split(entry)]
        if len(parts) < 2 or len(parts) > 3 or not parts[0]:
            raise RowError(
                _("家庭成员“%(entry)s”格式不正确：每人写“姓名,关系,身份证号码”") % {"entry": entry.strip()[:30]}
            )
        members.append({"name": parts[0], "relation": parts[1], "id_number": parts[2] if len(parts) == 3 else ""})
    return members


class _Districts:
    """Branches by name or code, among those the importer may write for (one query per name)."""

    def __init__(self, by) -> None:
        self.branches = visible_branches(by).filter(is_active=True)
        self.found: dict[str, Branch] = {}

    def get(self, text: str) -> Branch:
        if not text:
            raise RowError(_("缺少所在区县"))
        if text not in self.found:
            # the full name, or its tail as staff write it: 东湖区 / 东湖区红十字会 for 澜州市东湖区红十字会
            tail = text.removesuffix("红十字会") + "红十字会"
            match = list(self.branches.filter(Q(code=text.upper()) | Q(name=text) | Q(name__endswith=tail))[:2])
            if len(match) != 1:
                raise RowError(_("所在区县“%(text)s”不是您可以登记的组织（或不唯一），请写全称") % {"text": text[:30]})
            self.found[text] = match[0]
        return self.found[text]


def _read_row(reader: RowReader, line: int, project: Project, districts: _Districts) -> _Row:
    def text(key: str, max_length: int, *, multiline: bool = False) -> str:
        return clean_text(reader.raw(key), label=ROSTER_LABELS[key], max_length=max_length, multiline=multiline)

    kind_text = text("kind", 10)
    if kind_text and kind_text not in KINDS:
        raise RowError(_("申请类型须为 家庭 或 个人"))
    default_kind = BeneficiaryKind.HOUSEHOLD if project.unit == AidUnit.HOUSEHOLD else BeneficiaryKind.PERSON
    sex_text = text("sex", 4)
    if sex_text and sex_text not in SEXES:
        raise RowError(_("性别须为 男 或 女"))
    id_number = text("id_number", 30)
    if not id_number:
        raise RowError(_("缺少身份证号码：花名册按身份证号码核对重复救助"))
    amount = reader.raw("requested_amount")
    blank_amount = amount is None or (isinstance(amount, str) and not amount.strip())
    return _Row(
        line=line,
        district=districts.get(text("district", 60)),
        kind=KINDS.get(kind_text, default_kind),
        name=text("name", 50),
        id_number=id_number,
        phone=text("phone", 30),
        birth_date=parse_date(reader.raw("birth_date"), ROSTER_LABELS["birth_date"]),
        sex=SEXES.get(sex_text, ""),
        address=text("address", 200),
        members=_members(text("members", 2000, multiline=True)),
        situation=text("situation", 4000, multiline=True),
        illness=text("illness", 2000, multiline=True),
        income=text("income", 500, multiline=True),
        disability=text("disability", 500, multiline=True),
        requested_amount=None if blank_amount else parse_amount(amount, ROSTER_LABELS["requested_amount"]),
    )


def _register(row: _Row, *, by, project: Project, seen: dict[int, int], report: RosterReport) -> None:
    with transaction.atomic():
        registration = beneficiary_find_or_register(
            by=by,
            branch=row.district,
            kind=row.kind,
            name=row.name,
            id_number=row.id_number,
            phone=row.phone,
            birth_date=row.birth_date,
            sex=row.sex,
            address=row.address,
            illness=row.illness,
            income=row.income,
            disability=row.disability,
            members=row.members,
        )
        beneficiary = registration.beneficiary
        if beneficiary.pk in seen:
            report.skipped.append((row.line, _("与第 %(line)d 行是同一受助人") % {"line": seen[beneficiary.pk]}))
            return
        try:
            application_register(
                by=by,
                project=project,
                beneficiary=beneficiary,
                situation=row.situation,
                requested_amount=row.requested_amount,
            )
        except ValidationError as exc:
            if not registration.created and set(getattr(exc, "error_dict", {})) == {"beneficiary"}:
                # the same household again (a second import of the file): nothing to add
                report.skipped.append((row.line, _service_error(exc)))
                return
            raise
    seen[beneficiary.pk] = row.line  # only once the row is in: a rolled-back id may be given again
    report.registered += 1
    report.new_beneficiaries += registration.created
    if registration.suspected_duplicates:
        report.suspected_duplicates.append(row.line)


def roster_import(
    data: bytes,
    *,
    by,
    project: Project,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> RosterReport:
    """Register the roster's rows as applications to ``project``; see the module's docstring.

    Raises ``ImportFileError`` when the file cannot be read or its header lacks a required column
    (nothing imported), ``PermissionDenied`` when ``by`` may not register applications."""
    if not by.has_perm("relief.add_application") or not by.has_perm("relief.add_beneficiary"):
        raise PermissionDenied(_("您没有登记救助申请的权限"))
    workbook = xlsx_sheets(data)
    sheet = workbook[ROSTER_SHEET] if ROSTER_SHEET in workbook.sheetnames else workbook.worksheets[0]
    rows = xlsx_rows(sheet)
    header = find_header(rows, columns=ROSTER_COLUMNS, required=ROSTER_REQUIRED, format_label=_("救助对象花名册"))
    report = RosterReport(dry_run=dry_run)
    with transaction.atomic() if dry_run else nullcontext():
        _import_rows(rows, header, by=by, project=project, report=report, progress=progress)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _import_rows(rows, header, *, by, project: Project, report: RosterReport, progress) -> None:
    districts = _Districts(by)
    seen: dict[int, int] = {}  # beneficiary id -> the line that registered it
    count = 0
    for line, cells in rows:
        if is_blank(cells):
            continue
        count += 1
        if count > MAX_ROSTER_ROWS:
            report.stopped = _("花名册超过 %(n)d 行，第 %(line)d 行起未导入，请分批导入") % {
                "n": MAX_ROSTER_ROWS,
                "line": line,
            }
            return
        try:
            row = _read_row(RowReader(header, cells), line, project, districts)
            _register(row, by=by, project=project, seen=seen, report=report)
        except RowError as exc:
            report.rejected.append((line, exc.reason))
        except PermissionDenied as exc:
            report.rejected.append((line, str(exc)))
        except ValidationError as exc:
            if "project" in getattr(exc, "error_dict", {}):
                # the project stopped taking applications (closed meanwhile): the rest cannot go in
                report.stopped = _("第 %(line)d 行起未导入：%(reason)s") % {"line": line, "reason": _service_error(exc)}
                return
            report.rejected.append((line, _service_error(exc)))
        if progress is not None and count % 100 == 0:
            progress(count)
