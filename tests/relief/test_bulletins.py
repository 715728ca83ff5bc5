"""Relief in the usage announcements (使用公告, issue 15 item 7) and a project's bulletins on its page.

A usage announcement lists each relief project's disbursements in its period as counts and totals
(households or people helped, disbursements, cash, goods value), through the donations app's
registry (the donations app imports no relief module); the lines are in the hashed content, on the
public page and in the PDF, never a beneficiary's name, ID number or illness. A disbursement is
counted once per scope: a cash one signed late goes into the next announcement. A project's page
lists the announcements that published its funding or its disbursements, in one query.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from donations.services.bulletins import compose
from donations.services.bulletins.compose import bulletin_draft, canonical_json, content_sha256
from donations.services.bulletins.publish import bulletin_pdf_bytes, bulletin_publish, bulletin_verify_chain
from relief.models import BulletinAid
from relief.selectors.public import project_bulletins
from relief.services.aid import aid_confirm, aid_disburse
from tests.factories import StaffFactory
from tests.relief.conftest import approved, cn_id, fund, make_project, register

pytestmark = pytest.mark.django_db

SECRETS = {
    "names": ("欧阳秀梅", "司徒建国", "上官小雨"),
    "ids": (cn_id("19700101", 21), cn_id("19650505", 22), cn_id("20150303", 23)),
    "illness": "急性淋巴细胞白血病",
}


@pytest.fixture
def publisher(city):
    user = StaffFactory(branch=city, roles=["finance_reviewer"], last_name="吴", first_name="发布")
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="donations", codename__in=["publish_bulletin"])
    )
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def people(district_a, district_b, officer):
    return {"registrar": district_a, "reviewer": district_b, "decider": officer}


@pytest.fixture
def helped(funded_project, people, district_a, east):
    """Two households of the project paid by bank today; a third paid in cash, not yet signed."""
    aids = []
    for index, name in enumerate(SECRETS["names"]):
        household = register(
            district_a, east, name=name, id_number=SECRETS["ids"][index], illness=SECRETS["illness"],
            phone=f"1391234{index:04d}",
        ).beneficiary  # fmt: skip
        application = approved(funded_project, household, **people, amount="300")
        if index < 2:
            aid = aid_disburse(by=district_a, application=application, method="bank", voucher_number=f"V-{index}")
            aids.append(aid)
        else:
            aids.append(aid_disburse(by=district_a, application=application, method="cash"))
    return aids


def _publish(publisher, branch, *, start, end=None, campaign=None):
    draft = bulletin_draft(branch=branch, kind="usage", period_start=start, period_end=end or start, campaign=campaign,
                           by=publisher)  # fmt: skip
    return bulletin_publish(bulletin=draft, by=publisher)


def _relief(content: dict) -> dict:
    (table,) = [t for t in content.get("usage_lines", []) if t["key"] == "relief"]
    return table


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_usage_announcement_lists_each_projects_disbursements_as_counts_and_totals(
    client, publisher, city, funded_project, helped
):
    today = timezone.localdate()
    bulletin = _publish(publisher, city, start=today)
    table = _relief(bulletin.content)
    assert [column["key"] for column in table["columns"]][:4] == ["project", "kind", "households", "persons"]
    (row,) = table["rows"]
    assert row["project"] == funded_project.name and row["url"] == f"/relief/projects/{funded_project.pk}/"
    # the cash disbursement waits for its second signature: not counted yet
    assert (row["households"], row["persons"], row["count"]) == (2, None, 2)
    assert (row["cash"], row["goods_value"], row["total"]) == ("600.00", "0.00", "600.00")
    assert table["totals"] == {"households": 2, "persons": 0, "count": 2, "cash": "600.00", "goods_value": "0.00",
                               "total": "600.00"}  # fmt: skip
    # the project's funding allocation is published as a row of the announcement, as before
    assert [r["recipient"] for r in bulletin.content["rows"]] == [funded_project.recipient.name]
    # the lines are hashed with the rest; the chain holds
    assert bulletin.content_hash == content_sha256(bulletin.content)
    assert bulletin_verify_chain().ok
    assert set(BulletinAid.objects.filter(bulletin=bulletin).values_list("aid_id", flat=True)) == {
        helped[0].pk, helped[1].pk}  # fmt: skip
    # the public page, its JSON and the PDF show the lines and nothing of a beneficiary
    url = reverse("disclosure:bulletin", kwargs={"code": city.code, "kind": "usage", "number": bulletin.number})
    page = client.get(url).content.decode()
    text = _text(page)
    assert "人道救助发放（按项目）" in text and funded_project.name in text and "600.00" in text
    assert f'href="/relief/projects/{funded_project.pk}/"' in page
    data = client.get(url + "content.json").content.decode()
    assert data == canonical_json(bulletin.content)
    from tests.donations.test_bulletins import pdf_text

    pdf = "".join(pdf_text(bulletin_pdf_bytes(bulletin)).split())
    assert "人道救助发放（按项目）" in pdf and "600.00" in pdf
    secrets = [*SECRETS["names"], *SECRETS["ids"], *(i[-6:] for i in SECRETS["ids"]), SECRETS["illness"],
               *(aid.number for aid in helped), *(aid.application.number for aid in helped)]  # fmt: skip
    for secret in secrets:
        for where, body in (("page", page), ("json", data), ("pdf", pdf)):
            assert secret not in body, (secret, where)


def test_cash_signed_after_the_announcement_is_published_once_in_the_next(
    publisher, city, funded_project, helped, officer
):
    yesterday = timezone.localdate() - timedelta(days=1)
    today = timezone.localdate()
    # the disbursements were made yesterday (bank at once, cash registered); the announcement covers it
    from relief.models import Aid

    Aid.objects.filter(pk__in=[aid.pk for aid in helped]).update(disbursed_on=yesterday)
    first = _publish(publisher, city, start=yesterday)
    assert _relief(first.content)["totals"]["count"] == 2
    aid_confirm(by=officer, aid=helped[2])  # the second signature comes today
    second = _publish(publisher, city, start=today)
    (row,) = _relief(second.content)["rows"]
    assert (row["count"], row["households"], row["cash"]) == (1, 1, "300.00")  # the late one only
    assert "以前期间发放" in _relief(second.content)["note"]
    assert BulletinAid.objects.count() == 3
    # the campaign's own series had none of them yet: its announcement of today lists all three
    assert _relief(_publish(publisher, city, start=today, campaign=funded_project.fundings.get().allocation.campaign)
                   .content)["totals"]["count"] == 3  # fmt: skip


def test_a_campaigns_announcement_lists_only_the_projects_it_funded(
    publisher, city, funded_project, helped, officer, clerk, finance, campaign
):
    from tests.donations.factories import CampaignFactory

    other = CampaignFactory(branch=city, name="另一个募捐活动", slug="another")
    today = timezone.localdate()
    assert "usage_lines" in _publish(publisher, city, start=today, campaign=campaign).content
    elsewhere = _publish(publisher, city, start=today, campaign=other)
    assert "usage_lines" not in elsewhere.content  # the project was not funded by this campaign
    # the branch-wide announcement lists it too (each scope's series is complete on its own)
    assert _relief(_publish(publisher, city, start=today).content)["totals"]["count"] == 2


def test_a_district_announcement_does_not_list_the_citys_projects(publisher, east, helped):
    district_publisher = StaffFactory(branch=east, roles=["district_staff"], last_name="王", first_name="发布")
    bulletin = _publish(district_publisher, east, start=timezone.localdate())
    assert "usage_lines" not in bulletin.content


def test_receipt_bulletins_and_announcements_without_relief_are_unchanged(publisher, city, clerk, finance, campaign):
    today = timezone.localdate()
    draft = bulletin_draft(branch=city, kind="receipt", period_start=today, period_end=today, by=publisher)
    assert "usage_lines" not in draft.content
    usage = bulletin_draft(branch=city, kind="usage", period_start=today, period_end=today, by=publisher)
    assert set(usage.content) == {"format", "branch", "kind", "kind_label", "number", "title", "campaign", "period",
                                  "published_at", "errata", "previous_hash", "rows", "totals"}  # fmt: skip


def test_a_draft_previews_the_lines_and_publication_recomputes_them(publisher, city, funded_project, helped, officer):
    today = timezone.localdate()
    draft = bulletin_draft(branch=city, kind="usage", period_start=today, period_end=today, by=publisher)
    assert _relief(draft.content)["totals"]["count"] == 2
    assert not BulletinAid.objects.exists()  # a draft records nothing
    aid_confirm(by=officer, aid=helped[2])
    published = bulletin_publish(bulletin=draft, by=publisher)
    assert _relief(published.content)["totals"] == {"households": 3, "persons": 0, "count": 3, "cash": "900.00",
                                                     "goods_value": "0.00", "total": "900.00"}  # fmt: skip
    assert BulletinAid.objects.filter(bulletin=published).count() == 3


def test_a_failing_provider_leaves_nothing_half_published(publisher, city, funded_project, helped, monkeypatch):
    def broken(bulletin, ids):
        raise RuntimeError("recorder failed")

    provider, _record = compose._USAGE_PROVIDERS["relief"]
    monkeypatch.setitem(compose._USAGE_PROVIDERS, "relief", (provider, broken))
    draft = bulletin_draft(branch=city, kind="usage", period_start=timezone.localdate(),
                           period_end=timezone.localdate(), by=publisher)  # fmt: skip
    with pytest.raises(RuntimeError):
        bulletin_publish(bulletin=draft, by=publisher)
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.number is None and not BulletinAid.objects.exists()


def test_the_person_project_counts_people(publisher, city, officer, clerk, finance, campaign, people, district_a, east):
    from relief.services.projects import project_open

    project = make_project(officer, city, name="天使计划测试", kind="medical", unit="person", visit_required=False)
    fund(project, "5000.00", clerk=clerk, finance=finance, campaign=campaign, by=officer)
    project_open(by=officer, project=project)
    child = register(district_a, east, kind="person", name="上官小雨", id_number=SECRETS["ids"][2]).beneficiary
    application = approved(project, child, **people, amount="2000")
    aid_disburse(by=district_a, application=application, method="bank", voucher_number="V-MED")
    table = _relief(_publish(publisher, city, start=timezone.localdate()).content)
    (row,) = table["rows"]
    assert (row["households"], row["persons"], row["total"]) == (None, 1, "2000.00")
    assert (table["totals"]["households"], table["totals"]["persons"]) == (0, 1)


# --- the project's page lists its bulletins ---------------------------------------------------------


def test_the_project_page_lists_the_announcements_that_published_it(
    client, publisher, city, funded_project, helped, officer, django_assert_num_queries
):
    page = client.get(f"/relief/projects/{funded_project.pk}/").content.decode()
    assert "尚无公布本项目的使用公告" in page
    yesterday = timezone.localdate() - timedelta(days=1)
    # an announcement of yesterday published nothing of this project: not listed
    unrelated = _publish(publisher, city, start=yesterday - timedelta(days=1))
    funding = _publish(publisher, city, start=timezone.localdate())  # its funding and two disbursements
    with django_assert_num_queries(1):
        found = project_bulletins(funded_project)
    assert [b.pk for b in found] == [funding.pk]
    page = client.get(f"/relief/projects/{funded_project.pk}/").content.decode()
    link = reverse("disclosure:bulletin", kwargs={"code": city.code, "kind": "usage", "number": funding.number})
    assert f'href="{link}"' in page and unrelated.title not in page
    assert client.get(link).status_code == 200


def test_an_announcement_of_the_disbursements_alone_is_listed_too(
    publisher, city, funded_project, helped, officer, campaign
):
    # the funding went out in the campaign's announcement; the branch's later one has only the
    # late cash disbursement (no allocation of the project): both are listed
    from relief.models import Aid

    today = timezone.localdate()
    Aid.objects.filter(pk__in=[aid.pk for aid in helped]).update(disbursed_on=today - timedelta(days=1))
    by_campaign = _publish(publisher, city, start=today - timedelta(days=1), end=today, campaign=campaign)
    aid_confirm(by=officer, aid=helped[2])
    later = _publish(publisher, city, start=today, campaign=None)
    assert _relief(later.content)["totals"]["count"] == 3  # the branch-wide series lists all three
    assert {b.pk for b in project_bulletins(funded_project)} == {by_campaign.pk, later.pk}


def test_the_project_page_reads_one_query_for_its_bulletins_however_many(
    client, publisher, city, funded_project, helped, campaign
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/relief/projects/{funded_project.pk}/").status_code == 200
        return len(queries)

    count()  # warm: the first request fills the site's caches
    none = count()
    today = timezone.localdate()
    _publish(publisher, city, start=today)
    _publish(publisher, city, start=today, campaign=campaign)
    assert len(project_bulletins(funded_project)) == 2
    assert count() == none  # the list is one query, with or without bulletins


def test_the_publisher_reviews_the_relief_lines_before_publishing(client, publisher, city, funded_project, helped):
    today = timezone.localdate()
    draft = bulletin_draft(branch=city, kind="usage", period_start=today, period_end=today, by=publisher)
    client.force_login(publisher)
    page = client.get(reverse("admin:donations_bulletin_publish", args=[draft.pk])).content.decode()
    assert "人道救助发放（按项目）" in page and funded_project.name in page
    assert SECRETS["names"][0] not in page and SECRETS["illness"] not in page


def test_the_beat_drafts_an_announcement_for_a_period_with_disbursements_and_no_allocation(
    city, funded_project, helped, campaign, settings
):
    # the funding was allocated (and announced) long ago; last week only the households were paid
    from donations.models import Allocation, Bulletin
    from donations.services.bulletins.schedule import bulletins_draft_due
    from relief.models import Aid

    settings.BULLETIN_REGULAR_PERIOD = "weekly"
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())  # this Monday's run drafts last week
    Allocation.objects.filter(relief_funding__project=funded_project).update(allocated_on=today - timedelta(days=200))
    Aid.objects.filter(pk__in=[aid.pk for aid in helped]).update(disbursed_on=monday - timedelta(days=3))
    drafted = bulletins_draft_due(today=monday)
    usage = [b for b in drafted if b.kind == "usage" and b.campaign_id == campaign.pk]
    assert len(usage) == 1 and _relief(usage[0].content)["totals"]["count"] == 2
    assert bulletins_draft_due(today=monday) == []  # twice drafts nothing more
    assert Bulletin.objects.filter(kind="usage").count() == 1
