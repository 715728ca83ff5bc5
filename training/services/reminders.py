"""Reminders (提醒): certificate-expiry reminders recorded in the outbox once per certificate and
expiry date, and handed to a sender when one is configured (``TRAINING_REMINDER_SENDER``).

``training_reminders_send`` is what the daily beat job runs (``training.tasks.training_reminders_task``):
a plain list of steps, one per kind of reminder, then delivery.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from redcross.audit import audit_context
from redcross.scoping import ensure_branch_access
from training.conf import expiry_warning_days, reminder_sender
from training.models import Aed, Certificate, Reminder, ReminderKind, ReminderStatus
from training.selectors.aeds import aed_check_reminders

logger = logging.getLogger(__name__)

# what the person reads (an SMS): frozen in the outbox in Chinese, like a sent letter
EXPIRY_MESSAGE = "【{branch}】{name}您好，您的{kind}（编号 {number}）将于{expires}到期，请及时参加复训换证。"


def certificates_expiring(*, today: datetime.date | None = None):
    """Certificates still valid that expire within ``TRAINING_EXPIRY_WARNING_DAYS`` and were not
    renewed yet."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=expiry_warning_days())
    return Certificate.objects.valid_on(today).filter(expires_on__lte=horizon, renewal__isnull=True)


def certificate_expiry_reminders_create(*, today: datetime.date | None = None) -> int:
    """Record a reminder for every certificate expiring soon that has none for its expiry date;
    returns how many were recorded. Running it again records nothing new (a unique constraint
    per certificate and expiry date backs the check, also against a second job running beside)."""
    created = 0
    expiring = (
        certificates_expiring(today=today)
        .exclude(Exists(Reminder.objects.filter(
            kind=ReminderKind.CERTIFICATE_EXPIRY, certificate=OuterRef("pk"), due_on=OuterRef("expires_on"))))
        .select_related("person", "branch")
        .order_by("expires_on", "pk")
    )  # fmt: skip
    for certificate in expiring.iterator(chunk_size=500):
        message = EXPIRY_MESSAGE.format(
            branch=certificate.branch.short_name or certificate.branch.name,
            name=certificate.person.name,
            kind=certificate.get_kind_display(),
            number=certificate.number,
            expires=f"{certificate.expires_on.year}年{certificate.expires_on.month}月{certificate.expires_on.day}日",
        )
        try:
            with transaction.atomic(), audit_context(reason="certificate_expiry_reminder"):
                Reminder.objects.create(
                    kind=ReminderKind.CERTIFICATE_EXPIRY,
                    branch=certificate.branch,
                    person=certificate.person,
                    certificate=certificate,
                    due_on=certificate.expires_on,
                    message=message,
                )
        except IntegrityError:  # recorded by a job running beside this one
            continue
        created += 1
    return created


AED_MESSAGE = "【{branch}】AED“{place}”需要处理：{reasons}。请安排检查并在系统中登记检查结果。"


def aed_check_reminders_create(*, today: datetime.date | None = None) -> int:
    """Record a reminder to the branch's staff for every AED that needs attention
    (``aed_check_reminders``: never checked, check overdue, out of service, battery or pads
    expiring), once per AED and check cycle: the cycle is its last check (or its registration
    when never checked), so the next reminder comes only after a check that leaves it due again."""
    due = aed_check_reminders(today)
    aeds = Aed.objects.select_related("branch").in_bulk([reminder.aed_id for reminder in due])
    created = 0
    for reminder in due:
        aed = aeds[reminder.aed_id]
        cycle = reminder.last_checked_on or timezone.localtime(aed.created_at).date()
        if Reminder.objects.filter(kind=ReminderKind.AED_CHECK, aed=aed, due_on=cycle).exists():
            continue
        with translation.override(settings.LANGUAGE_CODE):  # frozen in Chinese, like the expiry message
            reasons = "、".join(reminder.reason_labels)
        message = AED_MESSAGE.format(
            branch=aed.branch.short_name or aed.branch.name, place=reminder.place, reasons=reasons
        )
        try:
            with transaction.atomic(), audit_context(reason="aed_check_reminder"):
                Reminder.objects.create(
                    kind=ReminderKind.AED_CHECK, branch=aed.branch, aed=aed, due_on=cycle, message=message
                )
        except IntegrityError:  # recorded by a job running beside this one
            continue
        created += 1
    return created


def reminders_deliver(*, limit: int = 1000) -> int:
    """Hand pending reminders to the configured sender (``TRAINING_REMINDER_SENDER``: a function
    taking a ``Reminder`` and raising on failure); returns how many were sent. Without a sender
    nothing happens: the outbox waits for staff."""
    sender = reminder_sender()
    if sender is None:
        return 0
    sent = 0
    pending = Reminder.objects.filter(status__in=(ReminderStatus.PENDING, ReminderStatus.FAILED), attempts__lt=5)
    for pk in pending.order_by("created_at", "pk").values_list("pk", flat=True)[:limit]:
        with transaction.atomic():
            reminder = (
                # the person is a nullable join (an AED reminder has none): lock the reminder row only
                Reminder.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(pk=pk, status__in=(ReminderStatus.PENDING, ReminderStatus.FAILED))
                .select_related("person")
                .first()
            )
            if reminder is None:
                continue  # another delivery run has it
            reminder.attempts += 1
            try:
                sender(reminder)
            except Exception as exc:  # a gateway's error: kept on the row, tried again next run
                reminder.status, reminder.last_error = ReminderStatus.FAILED, type(exc).__name__[:200]
                logger.warning("reminder %s not sent (%s)", reminder.pk, type(exc).__name__)
            else:
                reminder.status, reminder.sent_at, reminder.last_error = ReminderStatus.SENT, timezone.now(), ""
                sent += 1
            with audit_context(reason="reminder_deliver"):
                reminder.save(update_fields=["status", "sent_at", "attempts", "last_error"])
    return sent


@transaction.atomic
def reminder_mark_sent(*, reminder: Reminder, by) -> Reminder:
    """Staff sent the message by hand (by phone or their own SMS platform)."""
    ensure_branch_access(by, reminder.branch)
    reminder = Reminder.objects.select_for_update().get(pk=reminder.pk)
    if reminder.status not in (ReminderStatus.PENDING, ReminderStatus.FAILED):
        raise ValidationError({"status": [_("只有待发送或发送失败的提醒可以标记为已发送")]})
    reminder.status, reminder.sent_at, reminder.handled_by = ReminderStatus.SENT, timezone.now(), by
    with audit_context(user=by, reason="reminder_mark_sent"):
        reminder.save(update_fields=["status", "sent_at", "handled_by"])
    return reminder


def training_reminders_send() -> dict[str, int]:
    """The daily reminder job: record what is due, then deliver. One line per kind of reminder."""
    done = {
        "certificate_expiry": certificate_expiry_reminders_create(),
        "aed_check": aed_check_reminders_create(),
    }
    done["sent"] = reminders_deliver()
    return done
