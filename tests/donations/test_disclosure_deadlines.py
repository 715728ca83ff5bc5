"""Disclosure deadlines of the Charity Law (DESIGN.md section 4): every 5 days during an emergency
(art. 72), every 3 months for campaigns longer than 6 months and a full account within 3 months
of the end (art. 79); the staff page, the public page and the daily reminder e-mails (issue 5, item 5)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from donations.models import Bulletin, DisclosureReminder
from donations.selectors.disclosure import DeadlineStatus, add_months, campaign_deadlines
from donations.services.bulletins.compose import bulletin_draft
from donations.services.bulletins.publish import bulletin_publish
from donations.services.bulletins.schedule import disclosure_reminders_send
from donations.services.campaigns import campaign_set_status
from donations.tasks import disclosure_reminders_task
from tests.donations.factories import CampaignFactory
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def grant(user, *codenames: str):
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="donations", codename__in=codenames))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def publisher(city):
    return grant(StaffFactory(branch=city, roles=["finance_reviewer"]), "publish_bulletin")


def publish(publisher, branch, *, start: date, end: date | None = None, kind="receipt", campaign=None) -> Bulletin:
    bulletin = bulletin_draft(branch=branch, kind=kind, period_start=start, period_end=end or start, campaign=campaign)
    return bulletin_publish(bulletin=bulletin, by=publisher)


def deadline_of(campaign, today: date):
    return next(d for d in campaign_deadlines(today=today) if d.campaign.pk == campaign.pk)


def test_add_months_clips_to_the_end_of_the_month():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2026, 8, 31), 3) == date(2026, 11, 30)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
    assert add_months(date(2026, 3, 10), 6) == date(2026, 9, 10)


# --- emergency: every 5 days (art. 72) ---------------------------------------------------------


def test_an_emergency_campaign_publishes_its_receipts_every_five_days(city, publisher):
    start = timezone.localdate() - timedelta(days=20)
    campaign = CampaignFactory(branch=city, is_emergency=True, starts_on=start)
    assert deadline_of(campaign, start + timedelta(days=2)).status == DeadlineStatus.OK
    assert deadline_of(campaign, start + timedelta(days=3)).status == DeadlineStatus.DUE  # two days left
    due = deadline_of(campaign, start + timedelta(days=5))
    assert (due.status, due.next_due, due.last_published) == (DeadlineStatus.DUE, start + timedelta(days=5), None)
    overdue = deadline_of(campaign, start + timedelta(days=6))
    assert overdue.status == DeadlineStatus.OVERDUE
    assert [o.rule for o in overdue.open_obligations] == ["emergency"]

    publish(publisher, city, start=start, end=start + timedelta(days=4), campaign=campaign)
    after = deadline_of(campaign, start + timedelta(days=6))
    assert after.status == DeadlineStatus.OK
    assert after.next_due == start + timedelta(days=9)
    assert after.last_period_end == start + timedelta(days=4)
    assert after.last_published == timezone.localdate()
    # a usage announcement does not publish the receipts
    publish(
        publisher, city, start=start + timedelta(days=5), end=start + timedelta(days=9), kind="usage", campaign=campaign
    )
    assert deadline_of(campaign, start + timedelta(days=10)).status == DeadlineStatus.OVERDUE


def test_a_bulletin_of_the_whole_branch_counts_for_its_campaigns(city, branch_tree, publisher):
    start = timezone.localdate() - timedelta(days=12)
    campaign = CampaignFactory(branch=city, is_emergency=True, starts_on=start)
    publish(publisher, city, start=start, end=start + timedelta(days=7))  # the whole city branch
    assert deadline_of(campaign, start + timedelta(days=9)).next_due == start + timedelta(days=12)
    east = branch_tree["east"]
    east_campaign = CampaignFactory(branch=east, is_emergency=True, starts_on=start)
    assert deadline_of(east_campaign, start + timedelta(days=9)).status == DeadlineStatus.OVERDUE  # not the city's


# --- long campaigns: every 3 months (art. 79) --------------------------------------------------


def test_a_campaign_longer_than_six_months_publishes_every_three_months(city, publisher):
    today = timezone.localdate()
    start = add_months(today, -8)
    campaign = CampaignFactory(branch=city, is_emergency=False, starts_on=start)
    before = deadline_of(campaign, today)
    assert before.status == DeadlineStatus.OVERDUE
    assert before.next_due == add_months(start, 3)
    assert [o.rule for o in before.obligations] == ["long"]

    publish(
        publisher,
        city,
        start=today - timedelta(days=40),
        end=today - timedelta(days=10),
        campaign=campaign,
        kind="usage",
    )
    after = deadline_of(campaign, today)
    assert after.status == DeadlineStatus.OK  # either kind counts for the three-monthly disclosure
    assert after.next_due == add_months(today - timedelta(days=10), 3)
    assert deadline_of(campaign, after.next_due - timedelta(days=1)).status == DeadlineStatus.DUE
    assert deadline_of(campaign, after.next_due + timedelta(days=1)).status == DeadlineStatus.OVERDUE


def test_a_campaign_planned_for_longer_than_six_months_counts_from_its_start(city):
    today = timezone.localdate()
    planned = CampaignFactory(branch=city, starts_on=today - timedelta(days=30), ends_on=add_months(today, 9))
    deadline = deadline_of(planned, today)
    assert {o.rule for o in deadline.obligations} == {"long", "final"}
    assert deadline.next_due == add_months(today - timedelta(days=30), 3)
    assert deadline.status == DeadlineStatus.OK
    short = CampaignFactory(branch=city, starts_on=today - timedelta(days=30))
    deadline = deadline_of(short, today)
    assert (deadline.status, deadline.next_due, deadline.obligations) == (DeadlineStatus.OK, None, [])


# --- ended campaigns: the full account within 3 months (art. 79) --------------------------------


def test_an_ended_campaign_gives_its_full_account_within_three_months(city, publisher, clerk):
    today = timezone.localdate()
    ended_on = today - timedelta(days=20)
    campaign = CampaignFactory(branch=city, starts_on=ended_on - timedelta(days=40), ends_on=ended_on)
    deadline = deadline_of(campaign, today)
    assert deadline.ended_on == ended_on
    assert [o.rule for o in deadline.obligations] == ["final"]
    assert (deadline.status, deadline.next_due) == (DeadlineStatus.OK, add_months(ended_on, 3))
    assert deadline_of(campaign, add_months(ended_on, 3) - timedelta(days=2)).status == DeadlineStatus.DUE
    assert deadline_of(campaign, add_months(ended_on, 3) + timedelta(days=1)).status == DeadlineStatus.OVERDUE

    publish(publisher, city, start=ended_on - timedelta(days=40), end=ended_on - timedelta(days=1), campaign=campaign)
    assert deadline_of(campaign, today).next_due == add_months(ended_on, 3)  # not up to the end yet
    publish(publisher, city, start=ended_on, campaign=campaign)
    done = deadline_of(campaign, add_months(ended_on, 3) + timedelta(days=30))
    assert (done.status, done.next_due) == (DeadlineStatus.OK, None)
    assert done.obligations[0].done


def test_a_closed_campaign_without_an_end_date_ends_when_it_was_closed(city, clerk):
    today = timezone.localdate()
    campaign = CampaignFactory(branch=city, is_emergency=True, starts_on=today - timedelta(days=100))
    officer = StaffFactory(branch=city, roles=["donation_clerk"])
    campaign_set_status(campaign=campaign, status="closed", by=officer)
    deadline = deadline_of(campaign, today)
    assert deadline.ended_on == today
    assert [o.rule for o in deadline.obligations] == ["final"]  # the 5-day rule ends with the emergency
    assert deadline.next_due == add_months(today, 3)


# --- pages ---------------------------------------------------------------------------------------


def test_the_public_page_lists_each_campaigns_last_publication_and_next_due_date(client, city, publisher):
    today = timezone.localdate()
    late = CampaignFactory(branch=city, name="逾期的应急募捐", is_emergency=True, starts_on=today - timedelta(days=30))
    kept = CampaignFactory(
        branch=city, name="按期公开的应急募捐", is_emergency=True, starts_on=today - timedelta(days=3)
    )
    publish(publisher, city, start=today - timedelta(days=2), end=today - timedelta(days=1), campaign=kept)
    response = client.get(reverse("disclosure:deadlines"))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index(late.name) < page.index(kept.name)  # most urgent first
    assert "已逾期" in page and "尚未公开" in page
    assert today.isoformat() in page  # the kept campaign's last publication
    assert (today - timedelta(days=1) + timedelta(days=5)).isoformat() in page  # and its next due date


def test_the_staff_page_lists_the_deadlines_of_the_users_branches(client, city, branch_tree, east_staff):
    today = timezone.localdate()
    CampaignFactory(branch=city, name="市级应急募捐", is_emergency=True, starts_on=today - timedelta(days=30))
    CampaignFactory(branch=branch_tree["east"], name="东区应急募捐", is_emergency=True, starts_on=today)
    client.force_login(east_staff)
    response = client.get(reverse("admin:donations_bulletin_deadlines"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "东区应急募捐" in page and "市级应急募捐" not in page
    assert [d.campaign.name for d in response.context["deadlines"]] == ["东区应急募捐"]


# --- reminders ----------------------------------------------------------------------------------


def test_the_daily_reminder_mails_the_branchs_drafters_and_publishers_once(city, branch_tree, caplog, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    today = timezone.localdate()
    campaign = CampaignFactory(
        branch=city, name="逾期的应急募捐", is_emergency=True, starts_on=today - timedelta(days=30)
    )
    CampaignFactory(branch=city, name="刚开始的应急募捐", is_emergency=True, starts_on=today)  # due in 5 days: ok
    east_campaign = CampaignFactory(
        branch=branch_tree["east"], name="东区应急募捐", is_emergency=True, starts_on=today - timedelta(days=10)
    )
    clerk = StaffFactory(branch=city, roles=["donation_clerk"], email="clerk@example.org")  # add_bulletin
    publisher = grant(
        StaffFactory(branch=city, roles=["finance_reviewer"], email="pub@example.org"), "publish_bulletin"
    )
    StaffFactory(branch=city, roles=["donation_clerk"], email="")  # no address
    StaffFactory(branch=city, roles=["leadership"], email="leader@example.org")  # reads only
    StaffFactory(branch=city, roles=["donation_clerk"], email="gone@example.org", is_active=False)
    east = StaffFactory(branch=branch_tree["east"], roles=["district_staff"], email="east@example.org")

    with caplog.at_level("INFO"):
        sent = disclosure_reminders_task.delay().get()
    assert sent == 3
    to = sorted(address for message in mail.outbox for address in message.to)
    assert to == sorted([clerk.email, publisher.email, east.email])
    city_mail = next(m for m in mail.outbox if m.to == [clerk.email])
    assert campaign.name in city_mail.body and "已逾期" in city_mail.body
    assert "刚开始的应急募捐" not in city_mail.body and east_campaign.name not in city_mail.body
    assert "慈善法第七十二条" in city_mail.body
    assert all("@" not in record.getMessage() for record in caplog.records)  # no addresses in the logs

    assert disclosure_reminders_send() == 0  # once a day
    assert len(mail.outbox) == 3
    assert DisclosureReminder.objects.filter(sent_on=today).count() == 2
    assert disclosure_reminders_send(today=today + timedelta(days=1)) == 3  # and again tomorrow
