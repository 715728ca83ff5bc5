"""The AED registry (AED 登记): where each public defibrillator hangs, who may reach it and when,
and whether it is ready: last checked when and by whom, battery and pad expiry.

The public sees the device, never the people: place, address, indoor or outdoor, access and
opening hours, and the date of its last check (OpenStreetMap's ``emergency=defibrillator`` tags in
the GeoJSON export). Checkers, serial numbers and notes stay with staff.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from redcross.models import Branch

COORDINATE = {"max_digits": 9, "decimal_places": 6}


class AedAccess(models.TextChoices):
    """OpenStreetMap's ``access=*`` values that apply to a defibrillator."""

    YES = "yes", _("公众可用")
    PERMISSIVE = "permissive", _("经管理方许可可用")
    CUSTOMERS = "customers", _("仅限场所内人员")
    PRIVATE = "private", _("不对外")


class AedStatus(models.TextChoices):
    IN_SERVICE = "in_service", _("在用")
    OUT_OF_SERVICE = "out_of_service", _("停用待修")
    REMOVED = "removed", _("已撤除")


class AedCheckResult(models.TextChoices):
    READY = "ready", _("正常可用")
    FAULT = "fault", _("故障，停用待修")


class Aed(models.Model):
    branch = models.ForeignKey(
        Branch, verbose_name=_("所在区县组织"), on_delete=models.PROTECT, related_name="training_aeds"
    )
    place = models.CharField(_("场所名称"), max_length=120, help_text=_("如：地铁湖滨站、市体育馆"))
    address = models.CharField(_("地址"), max_length=200)
    location_detail = models.CharField(
        _("具体位置"), max_length=200, blank=True, help_text=_("在场所中的位置，如：B 出口客服中心旁")
    )
    level = models.CharField(_("楼层"), max_length=10, blank=True)
    # WGS-84 (what a phone's location gives and GeoJSON expects)
    latitude = models.DecimalField(_("纬度"), **COORDINATE, validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.DecimalField(
        _("经度"), **COORDINATE, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    indoor = models.BooleanField(_("室内"), default=True)
    access = models.CharField(_("可用范围"), max_length=12, choices=AedAccess.choices, default=AedAccess.YES)
    opening_hours = models.CharField(
        _("开放时间"),
        max_length=120,
        default="24/7",
        help_text=_("OpenStreetMap 格式，如 24/7 或 Mo-Su 06:00-23:00"),
    )
    operator = models.CharField(_("管理单位"), max_length=120, blank=True)
    model_name = models.CharField(_("品牌型号"), max_length=120, blank=True)
    serial_number = models.CharField(_("设备序列号"), max_length=60, blank=True)
    batch = models.ForeignKey(
        "training.EquipmentBatch",
        verbose_name=_("采购批次"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="aeds",
    )
    installed_on = models.DateField(_("安装日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=AedStatus.choices, default=AedStatus.IN_SERVICE)
    last_checked_on = models.DateField(_("最近检查日期"), null=True, blank=True, editable=False)
    last_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("最近检查人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    battery_expires_on = models.DateField(_("电池有效期至"), null=True, blank=True)
    pads_expires_on = models.DateField(_("电极片有效期至"), null=True, blank=True)
    note = models.TextField(_("备注"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("AED 设备")
        verbose_name_plural = _("AED 设备")
        ordering = ["branch__path", "place", "id"]
        indexes = [
            # the nearest-AED box (latitude range first) and the district lists, in service only
            models.Index(fields=["status", "latitude", "longitude"], name="training_aed_status_position"),
            models.Index(fields=["status", "branch", "place", "id"], name="training_aed_status_district"),
            models.Index(fields=["status", "place", "id"], name="training_aed_status_place"),
            models.Index(fields=["status", "last_checked_on"], name="training_aed_status_checked"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="training_aed_wgs84_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.place}{f' · {self.location_detail}' if self.location_detail else ''}"


class AedCheck(models.Model):
    """One inspection of an AED (written by ``aed_check_record``, which updates the AED)."""

    aed = models.ForeignKey(Aed, verbose_name=_("AED"), on_delete=models.PROTECT, related_name="checks")
    checked_on = models.DateField(_("检查日期"))
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("检查人"), on_delete=models.PROTECT, related_name="+"
    )
    result = models.CharField(_("检查结果"), max_length=10, choices=AedCheckResult.choices)
    battery_expires_on = models.DateField(_("电池有效期至"), null=True, blank=True)
    pads_expires_on = models.DateField(_("电极片有效期至"), null=True, blank=True)
    note = models.TextField(_("检查情况"), blank=True)
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("AED 检查记录")
        verbose_name_plural = _("AED 检查记录")
        ordering = ["-checked_on", "-id"]
        indexes = [models.Index(fields=["aed", "-checked_on"], name="training_aedcheck_aed_date")]

    def __str__(self) -> str:
        return f"{self.aed} · {self.checked_on:%Y-%m-%d}"
