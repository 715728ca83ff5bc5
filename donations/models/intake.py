"""Donors, campaigns, donations with their item lines and attachments, recipients,
receipts (公益事业捐赠统一票据) and certificates (电子捐赠证书).

Rules that concern one row live here (a donation's kind decides which fields it
needs); every write that matters goes through ``donations.services``.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from donations.valuation import ValueBasis, lot_value
from redcross.documents import PdfDocument, pdf_pending_index
from redcross.encryption import EncryptedTextField, blind_index
from redcross.masking import ANONYMOUS_DISPLAY_NAME, mask_person_name
from redcross.models import Branch
from redcross.money import MoneyField
from redcross.signoff import TwoPersonConfirmed
from redcross.uploads import validate_evidence_file
from redcross.validators import validate_cn_phone, validate_uscc
from redcross.verification import VerifiableDocument
from redcross.verification import new_verification_code as new_verification_code  # named by migration 0001


def new_token() -> str:
    return secrets.token_urlsafe(24)


class DonorKind(models.TextChoices):
    PERSON = "person", _("个人")
    ORGANISATION = "organisation", pgettext_lazy("donor kind", "单位")


class PublicDisplay(models.TextChoices):
    FULL = "full", _("公开全名")
    MASKED = "masked", _("隐去名字（如 张*）")
    ANONYMOUS = "anonymous", _("匿名（爱心人士）")


def shows_full_name(kind: str, public_display: str, has_consent: bool) -> bool:
    """Who is shown by full name on public pages: organisations unless anonymous, persons only when
    they chose full publication and their consent is on record. The one place this rule is
    written: the ORM condition (``full_name_shown``) and the SQL that keeps
    ``Donation.public_name`` (``full_name_sql``) are generated from it."""
    if public_display == PublicDisplay.ANONYMOUS:
        return False
    if kind == DonorKind.ORGANISATION:
        return True
    return public_display == PublicDisplay.FULL and has_consent


def _full_name_cases() -> list[tuple[str, list[str], list[str]]]:
    """The rule as a table, for each donor kind: the display choices shown in full whatever the
    consent, and those shown in full only with consent (the inputs are choices, so the table is
    the whole rule)."""
    cases = []
    for kind in DonorKind.values:
        always = [shown for shown in PublicDisplay.values if shows_full_name(kind, shown, False)]
        with_consent = [
            shown for shown in PublicDisplay.values if shows_full_name(kind, shown, True) and shown not in always
        ]
        cases.append((kind, always, with_consent))
    return cases


def full_name_shown(prefix: str = "") -> models.Q:
    """``shows_full_name`` as an ORM condition on a donor (``prefix`` "donor__" from a donation)."""
    condition = models.Q(pk__in=[])  # nobody, until a case of the rule adds someone
    for kind, always, with_consent in _full_name_cases():
        for displays, consent in ((always, {}), (with_consent, {f"{prefix}full_name_consent_at__isnull": False})):
            if displays:
                shown = (
                    {f"{prefix}public_display": displays[0]}
                    if len(displays) == 1
                    else {f"{prefix}public_display__in": displays}
                )
                condition |= models.Q(**{f"{prefix}kind": kind}, **shown, **consent)
    return condition


def full_name_sql(alias: str) -> str:
    """``shows_full_name`` as SQL: the donor's name where it is shown in full, else NULL, for the
    row ``alias`` of donations_donor (the triggers that keep ``Donation.public_name``)."""

    def literal(value: str) -> str:
        if not value.replace("_", "").isalnum():  # choice values: nothing to quote, nothing to get wrong
            raise ValueError(f"not a plain choice value: {value!r}")
        return f"'{value}'"

    terms = []
    for kind, always, with_consent in _full_name_cases():
        for displays, consent in ((always, ""), (with_consent, f" AND {alias}.full_name_consent_at IS NOT NULL")):
            if displays:
                shown = (
                    f"= {literal(displays[0])}" if len(displays) == 1 else f"IN ({', '.join(map(literal, displays))})"
                )
                terms.append(f"({alias}.kind = {literal(kind)} AND {alias}.public_display {shown}{consent})")
    return f"CASE WHEN {' OR '.join(terms) or 'FALSE'} THEN {alias}.name END"


def donor_public_name(kind: str, name: str, public_display: str, full_name_consent_at) -> str:
    """The name as public pages show it, on plain values (lists read without model instances)."""
    if public_display == PublicDisplay.ANONYMOUS:
        return str(ANONYMOUS_DISPLAY_NAME)
    if shows_full_name(kind, public_display, full_name_consent_at is not None):
        return name
    return mask_person_name(name)


class Donor(models.Model):
    """A person or an organisation that gives. Persons are masked in public unless
    they consented to full publication; anonymous donors appear as 爱心人士."""

    branch = models.ForeignKey(Branch, verbose_name=_("登记组织"), on_delete=models.PROTECT, related_name="donors")
    kind = models.CharField(_("类型"), max_length=12, choices=DonorKind.choices)
    name = models.CharField(_("名称或姓名"), max_length=200)
    credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, blank=True, validators=[validate_uscc], db_index=True
    )
    contact_person = models.CharField(_("联系人"), max_length=60, blank=True)
    phone = models.CharField(_("联系电话"), max_length=40, blank=True, validators=[validate_cn_phone])
    email = models.EmailField(_("电子邮箱"), blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    id_number = EncryptedTextField(_("身份证号码"), blank=True, blind_index_field="id_number_index")
    id_number_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    public_display = models.CharField(
        _("公开方式"), max_length=12, choices=PublicDisplay.choices, default=PublicDisplay.MASKED
    )
    full_name_consent_at = models.DateTimeField(_("同意公开全名时间"), null=True, blank=True)
    full_name_consent_text = models.TextField(_("同意公开全名的说明"), blank=True)
    wants_receipt = models.BooleanField(_("需要捐赠票据"), default=True)
    note = models.TextField(_("备注"), blank=True)
    # set by the importers (a statement's payer, a template row's donor), never by hand: only such
    # donors are found again by a name alone (``donor_match``), so an import never attaches a
    # payment to a hand-registered person who happens to share the name
    created_by_import = models.BooleanField(_("导入时自动创建"), default=False, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords(excluded_fields=["id_number", "id_number_index"])

    class Meta:
        verbose_name = _("捐赠人")
        verbose_name_plural = _("捐赠人")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~models.Q(credit_code=""),
                name="donor_unique_credit_code",
                violation_error_message=_("已有使用该统一社会信用代码的捐赠单位"),
            )
        ]
        indexes = [models.Index(fields=["name", "phone"], name="donor_name_phone")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # the ID number is encrypted; a keyed hash next to it finds duplicates without decrypting
        self.id_number_index = blind_index(self.id_number) if self.id_number else ""
        super().save(*args, **kwargs)

    @property
    def public_name(self) -> str:
        """The name as every public page, bulletin and export shows it."""
        return donor_public_name(self.kind, self.name, self.public_display, self.full_name_consent_at)

    @property
    def phone_last4(self) -> str:
        digits = "".join(ch for ch in self.phone if ch.isdigit())
        return digits[-4:] if len(digits) >= 4 else ""


class Recipient(models.Model):
    """A unit that receives allocated money or goods, or that a donor named (定向)."""

    class Kind(models.TextChoices):
        HOSPITAL = "hospital", _("医院")
        CDC = "cdc", _("疾控中心")
        POLICE = "police", _("公安")
        TRAFFIC_POLICE = "traffic_police", _("交警")
        AIRPORT = "airport", _("机场")
        METRO = "metro", _("地铁")
        COMMUNITY = "community", _("社区")
        SCHOOL = "school", _("学校")
        WELFARE_HOME = "welfare_home", _("福利院")
        HOUSEHOLD_GROUP = "household_group", _("困难群众")
        OTHER = "other", _("其他")

    branch = models.ForeignKey(Branch, verbose_name=_("所属组织"), on_delete=models.PROTECT, related_name="recipients")
    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    district = models.CharField(_("所在区县"), max_length=60, blank=True)
    contact_person = models.CharField(_("联系人"), max_length=60, blank=True)
    phone = models.CharField(_("联系电话"), max_length=40, blank=True, validators=[validate_cn_phone])
    is_active = models.BooleanField(_("启用"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("受赠单位")
        verbose_name_plural = _("受赠单位")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["branch", "name"], name="recipient_unique_name")]

    def __str__(self) -> str:
        return self.name


class CampaignKind(models.TextChoices):
    REGULAR = "regular", _("日常捐赠")
    SPECIAL = "special", _("专项募捐")


class CampaignStatus(models.TextChoices):
    OPEN = "open", _("进行中")
    PAUSED = "paused", _("暂停")
    CLOSED = "closed", _("已结束")
    FOLDED = "folded", _("已恢复为日常捐赠")


class Campaign(models.Model):
    branch = models.ForeignKey(Branch, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="campaigns")
    kind = models.CharField(_("类型"), max_length=10, choices=CampaignKind.choices, default=CampaignKind.SPECIAL)
    name = models.CharField(_("名称"), max_length=200)
    slug = models.SlugField(_("短名"), max_length=60, unique=True, help_text=_("用于网址和导入命令，如 covid-2020"))
    filing_number = models.CharField(_("公开募捐备案编号"), max_length=80, blank=True)
    purpose = models.TextField(_("募捐目的"), blank=True)
    target_amount = MoneyField(_("目标金额（元）"), null=True, blank=True)
    starts_on = models.DateField(_("开始日期"), null=True, blank=True)
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.OPEN)
    is_emergency = models.BooleanField(
        _("应急响应"), default=False, help_text=_("应急期间接收的捐赠至少每 5 日公开一次（慈善法第七十二条）")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("募捐活动")
        verbose_name_plural = _("募捐活动")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch"],
                condition=models.Q(kind="regular"),
                name="campaign_one_regular_per_branch",
                violation_error_message=_("每个组织只有一个日常捐赠"),
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(starts_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="campaign_ends_after_start",
                violation_error_message=_("结束日期不能早于开始日期"),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DonationKind(models.TextChoices):
    CASH = "cash", _("捐款")
    IN_KIND = "in_kind", _("捐物")


class Channel(models.TextChoices):
    ON_SITE = "on_site", _("现场")
    BANK = "bank", _("银行转账")
    WECHAT = "wechat", _("微信支付")
    ALIPAY = "alipay", _("支付宝")
    OTHER = "other", _("其他")


class DonationStatus(models.TextChoices):
    REGISTERED = "registered", _("已登记待复核")
    CONFIRMED = "confirmed", _("已复核")


# A donation counts, and the public sees it, once its second signature is done (双人双签).
PUBLIC_STATUS = DonationStatus.CONFIRMED


def public_donation_q(prefix: str = "") -> models.Q:
    """The rule of ``Donation.objects.public()`` reached through a relation: ``prefix`` is the path
    to the donation, e.g. ``DonationItem.objects.filter(public_donation_q("donation__"))``."""
    return models.Q(**{f"{prefix}status": PUBLIC_STATUS})


class DonationQuerySet(models.QuerySet):
    def public(self) -> DonationQuerySet:
        """The donations the public may see: confirmed ones (双人双签 done). The one place this rule
        lives (with ``public_donation_q`` for lookups through a relation); every public page, the
        open API, bulletins, public exports and the figures built on received donations (the
        books, the reports) start from it."""
        return self.filter(public_donation_q())


class Donation(TwoPersonConfirmed):
    """A cash or in-kind gift; it counts once a second staff member, not its registrar, confirms it."""

    own_confirmation_message = _("双人双签：捐赠 %(serial)s 由您登记，须由另一名工作人员复核")

    serial = models.CharField(_("捐赠流水号"), max_length=30, unique=True, editable=False)
    branch = models.ForeignKey(Branch, verbose_name=_("接收组织"), on_delete=models.PROTECT, related_name="donations")
    donor = models.ForeignKey(Donor, verbose_name=_("捐赠人"), on_delete=models.PROTECT, related_name="donations")
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("募捐活动"), on_delete=models.PROTECT, related_name="donations"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=DonationKind.choices)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    channel_transaction_id = models.CharField(_("渠道交易号"), max_length=64, blank=True)
    received_at = models.DateTimeField(_("到账时间"))
    amount = MoneyField(_("金额（元）"), null=True, blank=True)
    designated_recipient = models.ForeignKey(
        Recipient,
        verbose_name=_("定向受赠单位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="directed_donations",
    )
    wish = models.TextField(_("捐赠意愿"), blank=True)
    is_retroactive = models.BooleanField(
        _("补办手续"), default=False, help_text=_("捐赠人已将物资直接送达使用单位，补办接收手续")
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=DonationStatus.choices, default=DonationStatus.REGISTERED
    )
    note = models.TextField(_("内部备注"), blank=True)
    # refunds of a cash donation (e.g. from a WeChat Pay / Alipay statement); the amount stays as received
    refunded_amount = MoneyField(_("已退款金额（元）"), default=Decimal("0.00"))
    # one entry per refund: {"id": channel refund id, "amount": "12.00", "refunded_at": ISO time, "source": ...};
    # the ids make a re-imported refund a duplicate instead of a second refund
    refunds = models.JSONField(_("退款记录"), default=list, blank=True, editable=False)
    lookup_token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    # the donor's name where public pages show it in full (``shows_full_name``), else NULL: what the
    # honor roll's name search reads without a join. Written by the database's triggers (0005, 0008)
    # on every write of the donation and of the donor's name fields, never by Python.
    public_name = models.CharField(_("公开全名"), max_length=200, null=True, editable=False)

    objects = DonationQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["public_name"])

    class Meta:
        verbose_name = _("捐赠")
        verbose_name_plural = _("捐赠")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "channel_transaction_id"],
                condition=~models.Q(channel_transaction_id=""),
                name="donation_unique_channel_transaction",
                violation_error_message=_("该渠道交易号已登记"),
            ),
            models.CheckConstraint(
                condition=models.Q(amount__isnull=True) | models.Q(amount__gt=0),
                name="donation_amount_positive",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="cash") | models.Q(amount__isnull=False),
                name="donation_cash_has_amount",
            ),
        ]
        indexes = [
            models.Index(fields=["branch", "status", "received_at"], name="donation_branch_status"),
            models.Index(fields=["campaign", "received_at"], name="donation_campaign_received"),
            # the honor roll: confirmed donations newest first, alone or within a campaign, kind or branch
            models.Index(fields=["-received_at", "-id"], condition=models.Q(status="confirmed"), name="donation_roll"),
            models.Index(
                fields=["campaign", "-received_at", "-id"],
                condition=models.Q(status="confirmed"),
                name="donation_roll_campaign",
            ),
            models.Index(
                fields=["kind", "-received_at", "-id"],
                condition=models.Q(status="confirmed"),
                name="donation_roll_kind",
            ),
            models.Index(
                fields=["branch", "-received_at", "-id"],
                condition=models.Q(status="confirmed"),
                name="donation_roll_branch",
            ),
            models.Index(
                fields=["donor", "-received_at", "-id"],
                condition=models.Q(status="confirmed"),
                name="donation_roll_donor",
            ),
        ]
        permissions = [
            ("confirm_donation", _("复核捐赠（双人双签）")),
            ("correct_donation", _("更正已复核的捐赠")),
            ("import_donation", _("导入捐赠对账单")),
        ]

    def __str__(self) -> str:
        return self.serial

    @property
    def is_confirmed(self) -> bool:
        return self.status == DonationStatus.CONFIRMED

    @property
    def allocated_amount(self) -> Decimal:
        """Cash drawn by allocations registered or confirmed (one query; lists use the sources)."""
        if self.pk is None or self.amount is None:
            return Decimal("0.00")
        total = (
            self.uses.exclude(allocation__status="cancelled")
            .filter(item__isnull=True)
            .aggregate(total=models.Sum("amount"))["total"]
        )
        return Decimal(total or 0).quantize(Decimal("0.01"))

    @property
    def cash_remaining(self) -> Decimal:
        """Cash not yet allocated (after refunds); zero for goods."""
        if self.amount is None:
            return Decimal("0.00")
        return self.amount - self.refunded_amount - self.allocated_amount

    def goods_value(self) -> Decimal | None:
        """Sum of item values, or None when any item has no valuation."""
        total = Decimal("0.00")
        for item in self.items.all():
            if item.value is None:
                return None
            total += item.value
        return total


class DonationItem(models.Model):
    donation = models.ForeignKey(Donation, verbose_name=_("捐赠"), on_delete=models.CASCADE, related_name="items")
    name = models.CharField(_("物资名称"), max_length=120)
    specification = models.CharField(_("规格型号"), max_length=120, blank=True)
    quantity = models.DecimalField(_("数量"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("单位"), max_length=20)
    unit_value = MoneyField(_("单价（元）"), null=True, blank=True)
    value_basis = models.CharField(_("价值依据"), max_length=14, choices=ValueBasis.choices, default=ValueBasis.NONE)
    expiry_date = models.DateField(_("有效期至"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("捐赠物资")
        verbose_name_plural = _("捐赠物资")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(quantity__gt=0), name="item_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.name} {self.quantity:g}{self.unit}"

    @property
    def value(self) -> Decimal | None:
        return lot_value(self.quantity, self.unit_value, self.value_basis)


class Attachment(models.Model):
    class Kind(models.TextChoices):
        LETTER = "letter", _("捐赠函")
        AGREEMENT = "agreement", _("捐赠协议")
        BANK_SLIP = "bank_slip", _("银行回单")
        INVOICE = "invoice", _("发票")
        OTHER = "other", _("其他")

    donation = models.ForeignKey(Donation, verbose_name=_("捐赠"), on_delete=models.PROTECT, related_name="attachments")
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    file = models.FileField(_("文件"), upload_to="donations/attachments/%Y/%m/", validators=[validate_evidence_file])
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self) -> str:
        return self.file.name


ATTACHMENT_KINDS = Attachment.Kind.choices  # named in the OpenAPI schema (SPECTACULAR_SETTINGS)


class DonationCorrection(models.Model):
    """A recorded change to a confirmed donation: who, when, why, what before and after."""

    donation = models.ForeignKey(Donation, verbose_name=_("捐赠"), on_delete=models.PROTECT, related_name="corrections")
    reason = models.TextField(_("更正原因"))
    changes = models.JSONField(_("更正内容"))
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("更正人"), on_delete=models.PROTECT, related_name="+"
    )
    corrected_at = models.DateTimeField(_("更正时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("捐赠更正记录")
        verbose_name_plural = _("捐赠更正记录")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.donation} {self.corrected_at:%Y-%m-%d}"


class ReceiptStatus(models.TextChoices):
    VALID = "valid", _("有效")
    REVERSED = "reversed", _("已冲红")


class ReceiptCode(models.Model):
    """The 票据代码 the finance bureau (财政部门) assigned to a branch for a year.

    Receipts of that branch and year carry it. A year without one falls back to the branch's
    code followed by the year (``<code><year>``), which keeps a demo or a new branch working.
    Once a receipt of the year is issued, the year's code cannot change: a receipt is identified
    by its code and number, and a year's numbers run on under one code.
    """

    branch = models.ForeignKey(
        Branch, verbose_name=_("开票组织"), on_delete=models.PROTECT, related_name="receipt_codes"
    )
    year = models.PositiveIntegerField(_("年度"), validators=[MinValueValidator(2000), MaxValueValidator(2999)])
    code = models.CharField(
        _("票据代码"),
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^[0-9A-Z]{4,20}$", _("票据代码由 4 至 20 位数字或大写字母组成"))],
        help_text=_("财政部门编制的票据代码，按年度登记"),
    )
    registered_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("票据代码")
        verbose_name_plural = _("票据代码")
        ordering = ["-year", "branch__path"]
        constraints = [models.UniqueConstraint(fields=["branch", "year"], name="receipt_code_one_per_year")]

    def __str__(self) -> str:
        return f"{self.year} {self.code}"

    def clean(self) -> None:
        super().clean()
        if not self.branch_id or not self.year:
            return
        # receipts already issued for the year under another code (the fallback or an earlier one)
        issued = Receipt.objects.filter(branch_id=self.branch_id, year=self.year).exclude(invoice_code=self.code)
        if issued.exists():
            raise ValidationError({"code": [_("该组织本年度已有票据按其他票据代码开具，票据代码不能再更改")]})


class Receipt(PdfDocument):
    """公益事业捐赠统一票据, frozen as issued (财综〔2024〕1号 art. 6 fields).

    Payer, items and amounts are copied at issue; the PDF is stored. A receipt is
    never edited or deleted: a mistake is a red reversal (``ReceiptReversal``)
    plus a new receipt with a new number.
    """

    pdf_upload_to = "donations/receipts/%Y/"
    pdf_render_task = "donations.tasks.receipt_render_pdf_task"

    donation = models.ForeignKey(Donation, verbose_name=_("捐赠"), on_delete=models.PROTECT, related_name="receipts")
    branch = models.ForeignKey(Branch, verbose_name=_("开票组织"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveIntegerField(_("年度"))
    number = models.PositiveIntegerField(_("票据号码"))
    invoice_code = models.CharField(_("票据代码"), max_length=20)
    check_code = models.CharField(_("校验码"), max_length=12)
    issued_at = models.DateTimeField(_("开票日期"))
    payer_name = models.CharField(_("交款人"), max_length=200)
    payer_credit_code = models.CharField(_("交款人统一社会信用代码"), max_length=18, blank=True)
    lines = models.JSONField(_("项目明细"))
    total_amount = MoneyField(_("金额合计（元）"), null=True, blank=True)
    total_in_words = models.CharField(_("金额合计（大写）"), max_length=100, blank=True)
    remark = models.CharField(_("备注"), max_length=300, blank=True)
    payee = models.CharField(_("收款单位"), max_length=200)
    reviewer_name = models.CharField(_("复核人"), max_length=60)
    issuer_name = models.CharField(_("收款人"), max_length=60)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("开票人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("空白表示由夜间任务自动开具"),
    )
    status = models.CharField(_("状态"), max_length=10, choices=ReceiptStatus.choices, default=ReceiptStatus.VALID)
    replaces = models.OneToOneField(
        "self",
        verbose_name=_("替代的票据"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
    )
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("捐赠票据")
        verbose_name_plural = _("捐赠票据")
        ordering = ["-year", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["branch", "year", "number"], name="receipt_unique_number"),
            # one donation has at most one valid receipt
            models.UniqueConstraint(
                fields=["donation"], condition=models.Q(status="valid"), name="receipt_one_valid_per_donation"
            ),
        ]
        indexes = [pdf_pending_index("receipt_pdf_pending")]
        permissions = [
            ("issue_receipt", _("开具捐赠票据")),
            ("reverse_receipt", _("冲红捐赠票据")),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_code} {self.number_display}"

    @property
    def number_display(self) -> str:
        return f"{self.number:08d}"

    def pdf_filename(self) -> str:
        return f"{self.invoice_code}-{self.number_display}.pdf"

    def delete(self, *args, **kwargs):
        raise ValidationError(_("捐赠票据不能删除；开错的票据请冲红后重开"))


class ReceiptReversal(models.Model):
    """The red reversal (冲红) of a receipt: its own record pointing at the original."""

    receipt = models.OneToOneField(
        Receipt, verbose_name=_("被冲红的票据"), on_delete=models.PROTECT, related_name="reversal"
    )
    reason = models.TextField(_("冲红原因"))
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("冲红人"), on_delete=models.PROTECT, related_name="+"
    )
    reversed_at = models.DateTimeField(_("冲红时间"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("票据冲红")
        verbose_name_plural = _("票据冲红")
        ordering = ["-id"]

    def __str__(self) -> str:
        return str(self.receipt)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("冲红记录不能删除"))


class Certificate(PdfDocument, VerifiableDocument):
    """电子捐赠证书: one per confirmed donation, publicly verifiable by its code
    (``redcross.verification``: the one verification page of every numbered document).

    Its facts are its donation's: the serial is its number, the donor its holder, shown as the
    donor chose to appear (masked, full name with consent, or 爱心人士).
    """

    document_kind = _("电子捐赠证书")
    number_label = _("捐赠流水号")
    holder_label = _("捐赠人")

    pdf_upload_to = "donations/certificates/%Y/"
    pdf_render_task = "donations.tasks.certificate_render_pdf_task"

    donation = models.OneToOneField(
        Donation, verbose_name=_("捐赠"), on_delete=models.PROTECT, related_name="certificate"
    )
    issued_at = models.DateTimeField(_("颁发时间"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("电子捐赠证书")
        verbose_name_plural = _("电子捐赠证书")
        ordering = ["-id"]
        indexes = [pdf_pending_index("certificate_pdf_pending")]

    def __str__(self) -> str:
        return self.verification_code

    def save(self, *args, **kwargs) -> None:
        if not self.number:
            self.number = self.donation.serial
        if not self.holder_name_digest:
            donor = self.donation.donor
            self.set_holder(donor.name, display_name=donor.public_name)
        super().save(*args, **kwargs)

    def public_holder_name(self) -> str:
        # the donor may change how they appear after the certificate was issued
        return self.donation.donor.public_name

    def pdf_filename(self) -> str:
        return f"{self.verification_code}.pdf"
