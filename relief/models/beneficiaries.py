"""The beneficiary register (受助人 / 受助户): persons and households with their members.

Not ``redcross.Person`` (DESIGN.md section 6, PIPL purpose limitation): beneficiaries live here,
with their own keyed hashes (HMAC-SHA256 with ``RELIEF_MATCH_KEY``), so this register cannot be
joined to the person register. ID numbers, phones, addresses and the sensitive details (illness,
income, disability) are encrypted; lists and pages show them masked, and in full only to relief
roles (``relief.see_beneficiary_details``). Nothing of a beneficiary ever reaches a public page.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from redcross.encryption import EncryptedTextField
from redcross.masking import mask_person_name
from redcross.models import MaskedIdentity, Sex


class BeneficiaryKind(models.TextChoices):
    PERSON = "person", _("个人")
    HOUSEHOLD = "household", _("家庭")


class BeneficiaryQuerySet(models.QuerySet):
    def active(self) -> BeneficiaryQuerySet:
        return self.filter(merged_into__isnull=True)


class Beneficiary(MaskedIdentity):
    """A person helped, or a household (its head named here, its members below)."""

    kind = models.CharField(_("类型"), max_length=10, choices=BeneficiaryKind.choices)
    branch = models.ForeignKey(
        "redcross.Branch", verbose_name=_("所在区县组织"), on_delete=models.PROTECT, related_name="relief_beneficiaries"
    )
    name = models.CharField(_("姓名（户主）"), max_length=50)
    id_number = EncryptedTextField(_("身份证号码"), blank=True)
    phone = EncryptedTextField(_("联系电话"), blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    sex = models.CharField(_("性别"), max_length=8, choices=Sex.choices, blank=True)
    address = EncryptedTextField(_("住址"), blank=True)
    # sensitive details (PIPL art. 28): encrypted, shown only to relief roles
    illness = EncryptedTextField(_("疾病情况"), blank=True)
    income = EncryptedTextField(_("家庭收入情况"), blank=True)
    disability = EncryptedTextField(_("残疾情况"), blank=True)
    # keyed hashes (RELIEF_MATCH_KEY) for deduplication: never the plaintext, never PERSON_MATCH_KEY
    id_key = models.CharField(_("身份证号匹配键"), max_length=64, blank=True, editable=False)
    phone_key = models.CharField(_("电话匹配键"), max_length=64, blank=True, editable=False)
    name_birth_key = models.CharField(_("姓名出生日期匹配键"), max_length=64, blank=True, editable=False)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("已合并到"), on_delete=models.PROTECT, null=True, blank=True, editable=False,
        related_name="merged_beneficiaries",
    )  # fmt: skip
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = BeneficiaryQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["id_key", "phone_key", "name_birth_key"])

    class Meta:
        verbose_name = _("受助人（户）")
        verbose_name_plural = _("受助人（户）")
        ordering = ["-id"]
        permissions = [
            ("see_beneficiary_details", _("查看受助人敏感信息（身份证号、电话、住址、病情、收入、残疾）")),
            ("review_beneficiaryduplicate", _("复核疑似重复的受助人（可放行或合并）")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["id_key"],
                condition=models.Q(merged_into__isnull=True) & ~models.Q(id_key=""),
                name="relief_beneficiary_unique_id",
                violation_error_message=_("已有相同身份证号码的受助人"),
            )
        ]
        indexes = [
            models.Index(fields=["phone_key"], name="relief_benef_phone_key", condition=~models.Q(phone_key="")),
            models.Index(
                fields=["name_birth_key"], name="relief_benef_namebirth_key", condition=~models.Q(name_birth_key="")
            ),
        ]

    @property
    def is_minor(self) -> bool:
        if not self.birth_date:
            return False
        today = timezone.localdate()
        age = (
            today.year
            - self.birth_date.year
            - ((today.month, today.day) < (self.birth_date.month, self.birth_date.day))
        )
        return age < 18


class HouseholdMember(models.Model):
    """A member of a household beneficiary (the head is the beneficiary itself)."""

    household = models.ForeignKey(Beneficiary, verbose_name=_("家庭"), on_delete=models.PROTECT, related_name="members")
    name = models.CharField(_("姓名"), max_length=50)
    relation = models.CharField(_("与户主关系"), max_length=20)
    id_number = EncryptedTextField(_("身份证号码"), blank=True)
    id_key = models.CharField(_("身份证号匹配键"), max_length=64, blank=True, editable=False)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["id_key"])

    class Meta:
        verbose_name = _("家庭成员")
        verbose_name_plural = _("家庭成员")
        ordering = ["id"]
        constraints = [
            # one human is a member of one household only
            models.UniqueConstraint(
                fields=["id_key"], condition=~models.Q(id_key=""), name="relief_member_one_household",
                violation_error_message=_("此人已是另一受助家庭的成员"),
            )
        ]  # fmt: skip

    def __str__(self) -> str:
        return mask_person_name(self.name)


class DuplicateReason(models.TextChoices):
    PHONE = "phone", _("电话相同")
    NAME_BIRTH = "name_birth", _("姓名和出生日期相同")
    MEMBER = "member", _("身份证号与另一家庭成员相同")


class DuplicateStatus(models.TextChoices):
    OPEN = "open", _("待复核")
    MERGED = "merged", _("同一人，已合并")
    CLEARED = "cleared", _("不是同一人，已放行")


class BeneficiaryDuplicate(models.Model):
    """A suspected duplicate: ``beneficiary`` was registered with the phone, or the name and birth
    date, of ``candidate`` but another (or no) ID number. Its applications wait until a reviewer
    (``relief.review_beneficiaryduplicate``) merges the two or clears them, with a reason."""

    beneficiary = models.ForeignKey(
        Beneficiary, verbose_name=_("新登记"), on_delete=models.PROTECT, related_name="duplicate_suspicions"
    )
    candidate = models.ForeignKey(
        Beneficiary, verbose_name=_("疑似重复"), on_delete=models.PROTECT, related_name="duplicate_candidacies"
    )
    reason = models.CharField(_("疑似原因"), max_length=12, choices=DuplicateReason.choices)
    status = models.CharField(_("状态"), max_length=10, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN)
    created_at = models.DateTimeField(_("发现时间"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("复核人"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    resolution_reason = models.CharField(_("复核理由"), max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("疑似重复的受助人")
        verbose_name_plural = _("疑似重复的受助人")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["beneficiary", "candidate"], name="relief_duplicate_pair_once")]
        indexes = [models.Index(fields=["status", "beneficiary"], name="relief_duplicate_open")]

    def __str__(self) -> str:
        return f"{self.beneficiary} ≈ {self.candidate}"
