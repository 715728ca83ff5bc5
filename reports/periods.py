"""The period a report covers: a calendar month (月报, ``YYYY-MM``) or a year (年报, ``YYYY``).

Boundaries are local midnights in the portal's time zone (Asia/Shanghai), so "March" means what
the branch's staff mean by it. A period that has not started yet is refused; the running month
or year is allowed (figures to date).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

__all__ = ["MIN_YEAR", "PeriodKind", "ReportPeriod"]

MIN_YEAR = 2000
_MONTH_RE = re.compile(r"(\d{4})-(\d{1,2})", flags=re.ASCII)
_YEAR_RE = re.compile(r"\d{4}", flags=re.ASCII)


class PeriodKind(models.TextChoices):
    MONTH = "month", _("月报")
    YEAR = "year", _("年报")


def _error(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


@dataclass(frozen=True, order=True)
class ReportPeriod:
    kind: str
    year: int
    month: int | None = None

    # --- parsing -------------------------------------------------------------------------------

    @classmethod
    def month_of(cls, value: str, *, field: str = "month", today: date | None = None) -> ReportPeriod:
        """``"2026-03"`` -> March 2026; ValidationError naming ``field`` when malformed or in the future."""
        text = (value or "").strip()
        match = _MONTH_RE.fullmatch(text)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise _error(field, gettext("月份格式应为 YYYY-MM（如 2026-03），收到：%(value)s") % {"value": text[:20]})
        period = cls(PeriodKind.MONTH, int(match.group(1)), int(match.group(2)))
        period.check(field=field, today=today)
        return period

    @classmethod
    def year_of(cls, value: str | int, *, field: str = "year", today: date | None = None) -> ReportPeriod:
        """``"2026"`` -> the year 2026; ValidationError naming ``field`` when malformed or in the future."""
        text = str(value if value is not None else "").strip()
        if not _YEAR_RE.fullmatch(text):
            raise _error(field, gettext("年度格式应为 YYYY（如 2026），收到：%(value)s") % {"value": text[:20]})
        period = cls(PeriodKind.YEAR, int(text))
        period.check(field=field, today=today)
        return period

    @classmethod
    def parse(
        cls, kind: str, value: str, *, field: str | None = None, today: date | None = None, check: bool = True
    ) -> ReportPeriod:
        """A period from its stored form (``kind`` month or year, ``value`` ``2026-03`` or ``2026``)."""
        if kind == PeriodKind.MONTH:
            if not check:
                year, month = (int(part) for part in value.split("-"))
                return cls(PeriodKind.MONTH, year, month)
            return cls.month_of(value, field=field or "month", today=today)
        if kind == PeriodKind.YEAR:
            if not check:
                return cls(PeriodKind.YEAR, int(value))
            return cls.year_of(value, field=field or "year", today=today)
        raise _error(field or "period_kind", gettext("报表类型应为 month 或 year，收到：%(value)s") % {"value": kind})

    @classmethod
    def last_month(cls, today: date | None = None) -> ReportPeriod:
        """The month before ``today`` (local date): what the beat job reports on the 1st."""
        today = today or timezone.localdate()
        if today.month == 1:
            return cls(PeriodKind.MONTH, today.year - 1, 12)
        return cls(PeriodKind.MONTH, today.year, today.month - 1)

    def check(self, *, field: str, today: date | None = None) -> None:
        today = today or timezone.localdate()
        if self.year < MIN_YEAR:
            raise _error(field, gettext("年度不能早于 %(year)d 年") % {"year": MIN_YEAR})
        if self.start_date > today:
            raise _error(field, gettext("不能生成未来的报表：%(value)s 尚未开始") % {"value": self.value})

    # --- what it covers ------------------------------------------------------------------------

    @property
    def is_month(self) -> bool:
        return self.kind == PeriodKind.MONTH

    @property
    def value(self) -> str:
        return f"{self.year:04d}-{self.month:02d}" if self.is_month else f"{self.year:04d}"

    @property
    def label(self) -> str:
        if self.is_month:
            return gettext("%(year)d年%(month)d月") % {"year": self.year, "month": self.month}
        return gettext("%(year)d年") % {"year": self.year}

    @property
    def kind_label(self) -> str:
        return str(PeriodKind(self.kind).label)

    @property
    def start_date(self) -> date:
        return date(self.year, self.month or 1, 1)

    @property
    def end_date(self) -> date:
        """The first day after the period (exclusive bound)."""
        if not self.is_month:
            return date(self.year + 1, 1, 1)
        if self.month == 12:
            return date(self.year + 1, 1, 1)
        return date(self.year, self.month + 1, 1)

    @property
    def start(self) -> datetime:
        """The period's first instant, aware, in the portal's time zone."""
        return timezone.make_aware(datetime.combine(self.start_date, time.min))

    @property
    def end(self) -> datetime:
        """The instant the period ends (exclusive), aware, in the portal's time zone."""
        return timezone.make_aware(datetime.combine(self.end_date, time.min))

    def previous_year(self) -> ReportPeriod:
        """The same month or year one year earlier (the annual report's comparison)."""
        return ReportPeriod(self.kind, self.year - 1, self.month)

    def __str__(self) -> str:
        return self.value
