"""Persons (自然人): the one record of a human who takes part in the branch's work.

Written through ``redcross.people`` (find-or-register, update, merge); never joined with the
registers of relief beneficiaries or three-donations registrants (DESIGN.md section 6).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from redcross.encryption import EncryptedTextField
from redcross.masking import mask_id_number, mask_person_name, mask_phone
from redcross.validators import validate_cn_phone


class Sex(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class MaskedIdentity(models.Model):
    """What a register of humans shows of one (``Person``, a relief ``Beneficiary``, later a
    three-donations registrant): the name, phone and ID number masked with the one pattern of
    ``redcross.masking``, and a ``str`` that names no one.

    Declares no column: each register declares its own ``name``, ``phone`` and ``id_number`` (an
    ``EncryptedTextField``) with its own labels, and its own keyed hash of the ID number
    (``redcross.encryption.keyed_hash`` with the register's own key setting).
    """

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.masked_name}（#{self.pk}）" if self.pk else self.masked_name

    @property
    def masked_name(self) -> str:
        return mask_person_name(self.name)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)


class PersonQuerySet(models.QuerySet):
    def active(self) -> PersonQuerySet:
        """Persons not merged into another: the ones matching, lists and new relations use."""
        return self.filter(merged_into__isnull=True)


class Person(MaskedIdentity):
    """A human who takes part in the branch's work: trainee, instructor, later volunteer and member,
    so that a volunteer's first-aid certificate and membership are facts about the same person.

    **Not** for relief beneficiaries or three-donations (blood, stem-cell, organ and body donation)
    registrants: their data serve another purpose (PIPL purpose limitation) and live in their own
    app's register with their own keyed hash, so they can never be joined to this one.

    The ID number is encrypted; ``id_match_key`` is its keyed hash (HMAC-SHA256 with
    ``PERSON_MATCH_KEY``, see ``redcross.people.person_match_key``) so that "is this person already
    registered?" is one indexed lookup. A merged person stays as a tombstone pointing at the person
    it was merged into (``merged_into``), with its history.
    """

    name = models.CharField(_("姓名"), max_length=50)
    phone = models.CharField(_("手机号码"), max_length=40, blank=True, db_index=True, validators=[validate_cn_phone])
    id_number = EncryptedTextField(_("居民身份证号码"), blank=True)
    id_match_key = models.CharField(_("身份证号匹配键"), max_length=64, blank=True, editable=False)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    sex = models.CharField(_("性别"), max_length=8, choices=Sex.choices, blank=True)
    branch = models.ForeignKey(
        "redcross.Branch",
        verbose_name=_("登记组织"),
        on_delete=models.PROTECT,
        related_name="persons",
        help_text=_("登记此人的红十字会组织"),
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("已合并到"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="merged_persons",
    )
    merged_at = models.DateTimeField(_("合并时间"), null=True, blank=True, editable=False)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("合并人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    merge_reason = models.CharField(_("合并原因"), max_length=200, blank=True, editable=False)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = PersonQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("自然人")
        verbose_name_plural = _("自然人")
        ordering = ["-id"]
        permissions = [("merge_person", _("可以合并重复的自然人记录"))]
        constraints = [
            # one active person per ID number; a race between two registrations ends here
            models.UniqueConstraint(
                fields=["id_match_key"],
                condition=models.Q(merged_into__isnull=True) & ~models.Q(id_match_key=""),
                name="person_unique_active_id",
                violation_error_message=_("已有相同身份证号码的自然人记录"),
            ),
        ]
        indexes = [models.Index(fields=["phone", "name"], name="person_phone_name")]


class DuplicateStatus(models.TextChoices):
    OPEN = "open", _("待核对")
    MERGED = "merged", _("已合并")
    DISMISSED = "dismissed", _("不是同一人")


class PersonDuplicate(models.Model):
    """A suspected duplicate for staff to review: ``person`` was registered with the phone and name
    of ``candidate`` but with a different or no ID number."""

    person = models.ForeignKey(
        Person, verbose_name=_("新登记"), on_delete=models.PROTECT, related_name="duplicate_suspicions"
    )
    candidate = models.ForeignKey(
        Person, verbose_name=_("疑似重复"), on_delete=models.PROTECT, related_name="duplicate_candidacies"
    )
    reason = models.CharField(_("疑似原因"), max_length=100)
    status = models.CharField(_("状态"), max_length=12, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN)
    created_at = models.DateTimeField(_("发现时间"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    resolution_note = models.CharField(_("处理说明"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("疑似重复的自然人")
        verbose_name_plural = _("疑似重复的自然人")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "candidate"], name="person_duplicate_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.person} ~ {self.candidate}"
