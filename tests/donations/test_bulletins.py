"""Bulletins (公示): receipt bulletins and usage announcements, 第N期 per branch and kind, the hash
chain, immutability, errata, privacy, the beat's drafts, the PDF, the public pages, the feed and
the trace (issue 5, items 4 and 6)."""

from __future__ import annotations

import hashlib
import itertools
import json
import subprocess
import threading
import xml.etree.ElementTree as ET
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from donations.models import (
    GENESIS_HASH,
    Allocation,
    Bulletin,
    BulletinDonation,
    BulletinStatus,
    Donation,
    PdfStatus,
    PublicDisplay,
    Recipient,
)
from donations.selectors.trace import donation_trace
from donations.services.allocations import allocation_confirm, allocation_plan_register, allocation_register_cash
from donations.services.bulletins.compose import bulletin_draft, bulletin_edit_draft, canonical_json, content_sha256
from donations.services.bulletins.publish import bulletin_publish, bulletin_render_pdf, bulletin_verify_chain
from donations.services.bulletins.schedule import bulletins_draft_due, regular_period
from donations.services.donors import donor_register
from donations.services.intake import donation_confirm, donation_register
from donations.tasks import bulletins_draft_due_task
from tests.donations.factories import CampaignFactory, OrganisationDonorFactory, RecipientFactory
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


# --- helpers ------------------------------------------------------------------------------------


def today() -> date:
    return timezone.localdate()


def at(day: date, hour: int = 10) -> datetime:
    """``hour`` o'clock on ``day``, or a minute ago when that is still to come today."""
    moment = datetime.combine(day, time(hour), timezone.get_current_timezone())
    return min(moment, timezone.now() - timedelta(minutes=1))


def grant(user, *codenames: str):
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="donations", codename__in=codenames))
    return type(user).objects.get(pk=user.pk)  # a fresh object: permissions are cached per instance


def gift(clerk, reviewer, branch, campaign, *, day: date, amount="100.00", donor=None, **extra) -> Donation:
    donation = donation_register(
        by=clerk,
        branch=branch,
        donor=donor or OrganisationDonorFactory(branch=branch),
        campaign=campaign,
        kind=extra.pop("kind", "cash"),
        channel=extra.pop("channel", "bank"),
        received_at=at(day),
        amount=amount,
        **extra,
    )
    return donation_confirm(donation=donation, by=reviewer)


def draft(branch, kind="receipt", *, start: date, end: date | None = None, campaign=None, by=None, **extra):
    return bulletin_draft(
        branch=branch, kind=kind, period_start=start, period_end=end or start, campaign=campaign, by=by, **extra
    )


def published(publisher, branch, kind="receipt", *, start: date, end: date | None = None, campaign=None, **extra):
    return bulletin_publish(
        bulletin=draft(branch, kind, start=start, end=end, campaign=campaign, **extra), by=publisher
    )


def detail_url(bulletin: Bulletin, name: str = "disclosure:bulletin") -> str:
    return reverse(name, kwargs={"code": bulletin.branch.code, "kind": bulletin.kind, "number": bulletin.number})


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def publisher(city):
    """A finance reviewer who may publish bulletins (see the report: roles.py grants it to nobody yet)."""
    return grant(
        StaffFactory(branch=city, roles=["finance_reviewer"], last_name="吴", first_name="发布"), "publish_bulletin"
    )


@pytest.fixture
def hospital(city):
    return RecipientFactory(branch=city, name="测试市第一人民医院", kind=Recipient.Kind.HOSPITAL)


@pytest.fixture
def officer(city):
    """Registers cash allocations (the clerk role has add_allocation)."""
    return StaffFactory(branch=city, roles=["donation_clerk"], last_name="郑", first_name="拨付")


def paid(officer, reviewer, city, campaign, recipient, amount="150.00", *, day: date | None = None) -> Allocation:
    plan = allocation_plan_register(
        by=officer,
        branch=city,
        document_number=f"测防指〔2026〕{Allocation.objects.count() + 1}号",
        title="社会捐赠款物分配方案",
        issuing_body="测试市疫情防控指挥部",
        issued_on=(day or today()) - timedelta(days=1),
        lines=[{"kind": "cash", "campaign": campaign, "recipient": recipient, "amount": amount}],
    )
    allocation = allocation_register_cash(
        by=officer,
        campaign=campaign,
        recipient=recipient,
        amount=amount,
        allocated_on=day or today() - timedelta(days=1),
        plan_line=plan.lines.get(),
    )
    return allocation_confirm(allocation=allocation, by=reviewer)


# --- drafting and publishing --------------------------------------------------------------------


def test_publication_recomputes_the_rows_numbers_and_hashes_and_links_the_donations(
    clerk, reviewer, publisher, city, campaign, django_capture_on_commit_callbacks
):
    yesterday = today() - timedelta(days=1)
    first = gift(clerk, reviewer, city, campaign, day=yesterday, amount="100.00")
    bulletin = draft(city, start=yesterday, campaign=campaign, by=clerk)
    assert bulletin.status == BulletinStatus.DRAFT and bulletin.number is None
    assert bulletin.content["totals"]["count"] == 1  # the preview
    assert bulletin.drafted_by == clerk
    second = gift(clerk, reviewer, city, campaign, day=yesterday, amount="50.50")  # confirmed after drafting
    gift(clerk, reviewer, city, campaign, day=today(), amount="9.00")  # another day: not in this bulletin

    with django_capture_on_commit_callbacks(execute=True):
        bulletin = bulletin_publish(bulletin=bulletin, by=publisher)

    bulletin.refresh_from_db()
    assert (bulletin.status, bulletin.number, bulletin.chain_position) == (BulletinStatus.PUBLISHED, 1, 1)
    assert bulletin.previous_hash == GENESIS_HASH
    assert bulletin.published_by == publisher
    content = bulletin.content
    assert [row["serial"] for row in content["rows"]] == [first.serial, second.serial]
    assert content["totals"]["count"] == 2
    assert content["totals"]["cash"] == "150.50"
    assert content["totals"]["total"] == "150.50"
    assert (content["number"], content["kind"], content["branch"]["code"]) == (1, "receipt", city.code)
    assert content["period"] == {"start": yesterday.isoformat(), "end": yesterday.isoformat()}
    assert content["previous_hash"] == GENESIS_HASH
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert canonical == canonical_json(content)
    assert bulletin.content_hash == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert set(bulletin.donations.values_list("serial", flat=True)) == {first.serial, second.serial}
    assert bulletin.pdf_status == PdfStatus.READY and bulletin.pdf  # rendered after commit (eager task)
    assert bulletin.history.first().history_user == publisher


def test_numbers_are_gapless_per_branch_and_kind_and_one_chain_links_both_kinds(
    clerk, reviewer, publisher, city, branch_tree, campaign
):
    day = today() - timedelta(days=10)
    receipt_1 = published(publisher, city, start=day)
    usage_1 = published(publisher, city, "usage", start=day)
    receipt_2 = published(publisher, city, start=day + timedelta(days=1))
    receipt_3 = published(publisher, city, start=day + timedelta(days=2), campaign=campaign)
    east = branch_tree["east"]
    east_publisher = grant(StaffFactory(branch=east, roles=["district_staff"]), "publish_bulletin")
    east_1 = published(east_publisher, east, start=day)

    assert [b.number for b in (receipt_1, receipt_2, receipt_3)] == [1, 2, 3]
    assert usage_1.number == 1
    assert east_1.number == 1 and east_1.chain_position == 1 and east_1.previous_hash == GENESIS_HASH
    chain = [receipt_1, usage_1, receipt_2, receipt_3]
    assert [b.chain_position for b in chain] == [1, 2, 3, 4]
    for before, after in itertools.pairwise(chain):
        assert after.previous_hash == before.content_hash
    assert str(receipt_2) == f"{city.name}接收公示第2期"
    result = bulletin_verify_chain()
    assert result.ok
    assert {(c.branch_code, c.count) for c in result.chains} == {(city.code, 4), (east.code, 1)}


def test_a_failed_publication_gives_its_numbers_back(publisher, city):
    day = today() - timedelta(days=5)
    published(publisher, city, start=day, end=day + timedelta(days=1))
    overlapping = Bulletin.objects.create(
        branch=city, kind="receipt", period_start=day + timedelta(days=1), period_end=day + timedelta(days=2), title="x"
    )  # a draft made around the service: its period overlaps the published one
    with pytest.raises(ValidationError):
        bulletin_publish(bulletin=overlapping, by=publisher)
    assert published(publisher, city, start=day + timedelta(days=3)).number == 2  # no gap
    assert bulletin_verify_chain(branch=city).ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_publications_get_gapless_numbers_and_one_unbroken_chain(branch_tree):
    if connection.vendor != "postgresql":
        pytest.skip("row locks under real concurrency: PostgreSQL only (SQLite serialises whole transactions)")
    city = branch_tree["city"]
    publisher = grant(StaffFactory(branch=city, roles=["finance_reviewer"]), "publish_bulletin")
    start = today() - timedelta(days=30)
    drafts = [draft(city, "receipt" if n % 3 else "usage", start=start + timedelta(days=n)) for n in range(12)]
    barrier = threading.Barrier(len(drafts))
    errors: list[BaseException] = []

    def publish(bulletin: Bulletin) -> None:
        try:
            barrier.wait(timeout=30)
            bulletin_publish(bulletin=bulletin, by=publisher)
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=publish, args=(b,)) for b in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    rows = list(Bulletin.objects.filter(branch=city).values_list("kind", "number", "chain_position"))
    assert sorted(p for _k, _n, p in rows) == list(range(1, 13))
    for kind in ("receipt", "usage"):
        numbers = sorted(n for k, n, _p in rows if k == kind)
        assert numbers == list(range(1, len(numbers) + 1))
    assert bulletin_verify_chain(branch=city).ok


def test_only_publishers_of_the_branch_publish_and_only_drafts_are_edited(
    clerk, reviewer, publisher, city, branch_tree, east_staff
):
    day = today() - timedelta(days=2)
    bulletin = draft(city, start=day, by=clerk)
    with pytest.raises(PermissionDenied):
        bulletin_publish(bulletin=bulletin, by=clerk)  # clerks draft, they do not publish
    with pytest.raises(PermissionDenied):
        bulletin_publish(bulletin=bulletin, by=grant(east_staff, "publish_bulletin"))  # another branch's
    with pytest.raises(PermissionDenied):
        draft(city, start=day - timedelta(days=1), by=east_staff)
    edited = bulletin_edit_draft(bulletin=bulletin, by=clerk, title="测试市红十字会接收捐赠公示", errata="")
    assert edited.title == "测试市红十字会接收捐赠公示"
    with pytest.raises(ValidationError) as error:
        bulletin_edit_draft(bulletin=bulletin, by=clerk, title="")
    assert "title" in error.value.message_dict
    bulletin_publish(bulletin=bulletin, by=publisher)
    with pytest.raises(ValidationError):
        bulletin_edit_draft(bulletin=bulletin, by=publisher, errata="改一下")
    with pytest.raises(ValidationError):
        bulletin_publish(bulletin=bulletin, by=publisher)  # published once
    with pytest.raises(ValidationError):
        draft(city, start=day)  # the same period again
    with pytest.raises(ValidationError):
        draft(city, start=day - timedelta(days=1), end=day)  # overlaps a published one of the same scope
    with pytest.raises(ValidationError):
        draft(city, start=today() + timedelta(days=1))  # not over yet
    assert draft(city, start=day - timedelta(days=1), end=day, campaign=CampaignFactory(branch=city))  # another scope


def test_published_bulletins_refuse_save_and_every_bulletin_refuses_delete(publisher, city):
    day = today() - timedelta(days=3)
    stale = draft(city, start=day)
    bulletin = bulletin_publish(bulletin=Bulletin.objects.get(pk=stale.pk), by=publisher)
    bulletin.title = "改写的标题"
    with pytest.raises(ValidationError):
        bulletin.save()
    stale.title = "从旧对象改写"  # an instance loaded while it was a draft: the database decides
    with pytest.raises(ValidationError):
        stale.save()
    with pytest.raises(ValidationError):
        bulletin.delete()
    with pytest.raises(ValidationError):
        draft(city, start=day - timedelta(days=1)).delete()
    with pytest.raises(ValidationError):
        Bulletin(branch=city, kind="receipt", period_start=day, period_end=day, title="x", status="published").save()
    fresh = Bulletin.objects.get(pk=bulletin.pk)
    assert fresh.title != "改写的标题" and fresh.content_hash == content_sha256(fresh.content)


# --- tampering is detected ----------------------------------------------------------------------


@pytest.fixture
def chain(clerk, reviewer, publisher, city, campaign):
    start = today() - timedelta(days=6)
    bulletins = []
    for n in range(3):
        gift(clerk, reviewer, city, campaign, day=start + timedelta(days=n), amount=f"{100 + n}.00")
        bulletins.append(published(publisher, city, start=start + timedelta(days=n)))
    return bulletins


def verify_page(client, **params) -> str:
    cache.clear()  # the page caches its result for a minute
    response = client.get(reverse("disclosure:bulletin_verify"), params)
    assert response.status_code == 200
    return response.content.decode()


def run_command(*args) -> tuple[str, bool]:
    out = StringIO()
    try:
        call_command("verify_bulletins", *args, stdout=out)
    except CommandError:
        return out.getvalue(), False
    return out.getvalue(), True


def test_the_chain_verifies_in_the_service_the_page_and_the_command(client, chain, city):
    assert bulletin_verify_chain().ok
    page = verify_page(client)
    assert "全部公示链核验通过" in page and chain[-1].content_hash in page
    output, ok = run_command()
    assert ok and output.strip() == f"{city.code} {city.name}: OK, 3 bulletins"
    output, ok = run_command("--branch", city.code)
    assert ok
    with pytest.raises(CommandError):
        call_command("verify_bulletins", "--branch", "NOPE", stdout=StringIO())


def test_rewritten_content_is_detected_by_the_service_the_page_and_the_command(client, chain, city):
    middle = chain[1]
    content = Bulletin.objects.get(pk=middle.pk).content
    content["rows"][0]["amount"] = "1.00"  # someone quietly lowers a gift
    Bulletin.objects.filter(pk=middle.pk).update(content=content)

    result = bulletin_verify_chain()
    assert not result.ok
    assert result.broken.pk == middle.pk
    assert "内容与本期哈希不符" in result.broken.reason
    assert [c.ok for c in result.chains[0].checks] == [True, False, True]
    page = verify_page(client)
    assert "发现断链" in page and "接收公示第2期" in page
    output, ok = run_command()
    assert not ok
    assert output.startswith(f"{city.code} {city.name}: BROKEN at 接收公示第2期: 内容与本期哈希不符")


def test_a_rewritten_hash_breaks_its_own_link_and_the_next(client, chain):
    Bulletin.objects.filter(pk=chain[0].pk).update(content_hash="f" * 64)
    result = bulletin_verify_chain()
    checks = result.chains[0].checks
    assert [c.ok for c in checks] == [False, False, True]
    assert "上一期哈希不符" in checks[1].reason
    assert "断链" in verify_page(client)
    assert not run_command()[1]


def test_a_consistent_rewrite_of_one_bulletin_breaks_the_link_from_the_next(chain):
    first = Bulletin.objects.get(pk=chain[0].pk)
    content = {**first.content, "errata": "悄悄补上的说明"}
    Bulletin.objects.filter(pk=first.pk).update(
        content=content, errata=content["errata"], content_hash=content_sha256(content)
    )
    result = bulletin_verify_chain()
    assert [c.ok for c in result.chains[0].checks] == [True, False, True]
    assert result.broken.pk == chain[1].pk and "上一期哈希不符" in result.broken.reason


def test_a_column_changed_beside_the_content_and_a_missing_bulletin_are_detected(chain, city):
    Bulletin.objects.filter(pk=chain[2].pk).update(title="改过的标题")
    broken = bulletin_verify_chain().broken
    assert broken.pk == chain[2].pk and "title" in broken.reason
    Bulletin.objects.filter(pk=chain[2].pk).update(title=chain[2].title)
    # the newest bulletin removed behind the service's back: the sequences still count it
    Bulletin.objects.filter(pk=chain[2].pk).update(status="draft", number=None, chain_position=None)
    broken = bulletin_verify_chain(branch=city).broken
    assert broken.pk is None and "公示链应有 3 个环节" in broken.reason


# --- errata and late confirmations --------------------------------------------------------------


def test_errata_are_published_in_a_later_bulletin(client, clerk, publisher, city, chain):
    later = draft(city, start=today() - timedelta(days=2), by=clerk)
    erratum = "更正：接收公示第1期第1笔的捐赠人名称应为“测试爱心企业有限公司”。"
    bulletin_edit_draft(bulletin=later, by=clerk, errata=erratum)
    later = bulletin_publish(bulletin=later, by=publisher)
    assert later.content["errata"] == erratum
    assert later.errata == erratum
    assert Bulletin.objects.get(pk=chain[0].pk).content["errata"] == ""  # the original stays as published
    page = client.get(detail_url(later)).content.decode()
    assert "勘误" in page and "测试爱心企业有限公司" in page
    archive = client.get(reverse("disclosure:bulletins")).content.decode()
    assert "含勘误" in archive
    assert bulletin_verify_chain().ok


def test_a_gift_confirmed_after_its_days_bulletin_is_published_in_the_next_one(
    clerk, reviewer, publisher, city, campaign
):
    two_days_ago, yesterday = today() - timedelta(days=2), today() - timedelta(days=1)
    on_time = gift(clerk, reviewer, city, campaign, day=two_days_ago)
    late = donation_register(
        by=clerk, branch=city, donor=OrganisationDonorFactory(branch=city), campaign=campaign, kind="cash",
        channel="bank", received_at=at(two_days_ago), amount="66.00",
    )  # fmt: skip
    first = published(publisher, city, start=two_days_ago)
    assert [r["serial"] for r in first.content["rows"]] == [on_time.serial]
    donation_confirm(donation=late, by=reviewer)
    fresh = gift(clerk, reviewer, city, campaign, day=yesterday)
    second = published(publisher, city, start=yesterday)
    rows = {r["serial"]: r for r in second.content["rows"]}
    assert set(rows) == {late.serial, fresh.serial}
    assert rows[late.serial]["late"] is True and rows[fresh.serial]["late"] is False
    assert BulletinDonation.objects.filter(donation=on_time).count() == 1


# --- privacy ------------------------------------------------------------------------------------


@pytest.fixture
def people(clerk, city):
    masked = donor_register(
        by=clerk, branch=city, kind="person", name="司马相如", phone="13912345678",
        id_number="11010519491231002X", address="测试市东区幸福路 1 号 2 单元 301", email="sima@example.com",
    )  # fmt: skip
    anonymous = donor_register(
        by=clerk, branch=city, kind="organisation", name="隐名投资有限公司", phone="0571-86009876",
        public_display=PublicDisplay.ANONYMOUS, address="测试市西区隐名大厦",
    )  # fmt: skip
    consenting = donor_register(
        by=clerk, branch=city, kind="person", name="欧阳明日", phone="13812349876",
        public_display=PublicDisplay.FULL, full_name_consent_text="本人同意公开全名",
    )  # fmt: skip
    return masked, anonymous, consenting


def test_bulletins_show_public_names_only_in_html_pdf_json_and_feed(
    client, clerk, reviewer, publisher, city, campaign, people, django_capture_on_commit_callbacks
):
    masked, _anonymous, _consenting = people
    yesterday = today() - timedelta(days=1)
    for donor in people:
        gift(clerk, reviewer, city, campaign, day=yesterday, donor=donor)
    with django_capture_on_commit_callbacks(execute=True):
        bulletin = published(publisher, city, start=yesterday, campaign=campaign)
    bulletin.refresh_from_db()
    names = [row["donor"] for row in bulletin.content["rows"]]
    assert names == [masked.public_name, "爱心人士", "欧阳明日"]
    assert masked.public_name == "司马**"

    html = client.get(detail_url(bulletin)).content.decode()
    data = client.get(detail_url(bulletin, "disclosure:bulletin_json")).content.decode()
    feed = client.get(reverse("disclosure:bulletins_feed")).content.decode()
    pdf = client.get(detail_url(bulletin, "disclosure:bulletin_pdf"))
    assert pdf.status_code == 200
    text = pdf_text(b"".join(pdf.streaming_content))
    assert "司马**" in html and "司马**" in data and "司马**" in text and "欧阳明日" in text
    for secret in (
        "司马相如", "13912345678", "11010519491231002X", "幸福路", "sima@example.com", "隐名投资",
        "0571-86009876", "86009876", "隐名大厦", "13812349876",
    ):  # fmt: skip
        for where, body in (("html", html), ("json", data), ("feed", feed), ("pdf", text)):
            assert secret not in body, (secret, where)


def pdf_text(data: bytes) -> str:
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return result.stdout.decode("utf-8")


# --- the PDF ------------------------------------------------------------------------------------


def test_the_pdf_renders_once_with_chinese_text_and_both_hashes(
    client, clerk, reviewer, publisher, city, campaign, officer, hospital
):
    yesterday = today() - timedelta(days=1)
    gift(clerk, reviewer, city, campaign, day=yesterday, amount="1000.00")
    paid(officer, reviewer, city, campaign, hospital, "150.00", day=yesterday)
    bulletin = published(publisher, city, "usage", start=yesterday, campaign=campaign)
    assert client.get(detail_url(bulletin, "disclosure:bulletin_pdf")).status_code == 404  # not rendered yet
    bulletin_render_pdf(bulletin_id=bulletin.pk)
    bulletin.refresh_from_db()
    assert bulletin.pdf_status == PdfStatus.READY
    name = bulletin.pdf.name
    bulletin_render_pdf(bulletin_id=bulletin.pk)  # idempotent: the stored file stays
    bulletin.refresh_from_db()
    assert bulletin.pdf.name == name
    with bulletin.pdf.open("rb") as handle:
        text = pdf_text(handle.read())
    flat = "".join(text.split())
    assert "使用公告第1期" in flat
    assert "测试市第一人民医院" in flat and "150.00" in flat
    assert bulletin.content_hash in flat and bulletin.previous_hash in flat
    assert client.get(detail_url(bulletin, "disclosure:bulletin_pdf")).status_code == 200
    assert bulletin_verify_chain().ok  # attaching the file changed nothing published


@override_settings(BULLETIN_PDF_MAX_ROWS=1)
def test_a_bulletin_too_long_for_paper_prints_its_totals_and_hashes_and_points_to_the_rows(
    clerk, reviewer, publisher, city, campaign
):
    yesterday = today() - timedelta(days=1)
    gifts = [gift(clerk, reviewer, city, campaign, day=yesterday, amount=a) for a in ("10.00", "20.00")]
    bulletin = published(publisher, city, start=yesterday)
    bulletin = bulletin_render_pdf(bulletin_id=bulletin.pk)
    with bulletin.pdf.open("rb") as handle:
        flat = "".join(pdf_text(handle.read()).split())
    assert "明细共2笔" in flat and "content.json" in flat and "30.00" in flat
    assert bulletin.content_hash in flat
    assert all(g.serial not in flat for g in gifts)


# --- drafting on schedule -----------------------------------------------------------------------


def test_the_beat_drafts_emergency_bulletins_daily_and_is_idempotent(
    clerk, reviewer, officer, city, campaign, hospital
):
    assert campaign.is_emergency
    now = today()
    yesterday = now - timedelta(days=1)
    drafted = bulletins_draft_due(today=now)
    assert [(b.kind, b.period_start, b.period_end, b.campaign_id) for b in drafted] == [
        ("receipt", yesterday, yesterday, campaign.pk)
    ]  # an empty day is published too during an emergency; no usage announcement without allocations
    assert bulletins_draft_due(today=now) == []
    assert bulletins_draft_due_task.delay().get() == 0

    gift(clerk, reviewer, city, campaign, day=yesterday, amount="500.00")
    paid(officer, reviewer, city, campaign, hospital, "100.00", day=yesterday)
    drafted = bulletins_draft_due(today=now)
    assert [(b.kind, b.period_start) for b in drafted] == [("usage", yesterday)]
    assert Bulletin.objects.filter(campaign=campaign).count() == 2
    assert all(b.drafted_by is None for b in Bulletin.objects.all())


def test_the_beat_drafts_other_campaigns_weekly_on_mondays(clerk, reviewer, city):
    regular = CampaignFactory(branch=city, name="日常捐赠测试", slug="regular-test", is_emergency=False)
    monday = today() - timedelta(days=today().weekday())
    if monday == today():
        monday -= timedelta(days=7)
    last_week = (monday - timedelta(days=7), monday - timedelta(days=1))
    assert regular_period(monday) == last_week
    assert regular_period(monday + timedelta(days=1)) is None
    gift(clerk, reviewer, city, regular, day=last_week[0] + timedelta(days=2))
    assert bulletins_draft_due(today=monday + timedelta(days=1)) == []  # Tuesday: nothing
    drafted = bulletins_draft_due(today=monday)
    assert [(b.kind, b.period_start, b.period_end) for b in drafted] == [("receipt", *last_week)]
    assert bulletins_draft_due(today=monday) == []
    quiet = CampaignFactory(branch=city, slug="quiet", is_emergency=False)
    assert not Bulletin.objects.filter(campaign=quiet).exists()  # nothing to list: nothing drafted


@override_settings(BULLETIN_REGULAR_PERIOD="monthly")
def test_the_beat_drafts_other_campaigns_monthly_on_the_first(clerk, reviewer, city):
    regular = CampaignFactory(branch=city, slug="monthly-test", is_emergency=False)
    first = today().replace(day=1)
    previous_month_end = first - timedelta(days=1)
    previous = (previous_month_end.replace(day=1), previous_month_end)
    assert regular_period(first) == previous
    assert regular_period(first + timedelta(days=1)) is None
    gift(clerk, reviewer, city, regular, day=previous[0] + timedelta(days=3))
    drafted = bulletins_draft_due(today=first)
    assert [(b.period_start, b.period_end) for b in drafted] == [previous]
    assert bulletins_draft_due(today=first) == []


def test_the_beat_starts_after_the_last_published_period_and_drafts_for_other_branches(
    clerk, reviewer, publisher, city, branch_tree, campaign
):
    east = branch_tree["east"]
    east_clerk = StaffFactory(branch=east, roles=["district_staff"])
    east_reviewer = StaffFactory(branch=east, roles=["district_staff", "finance_reviewer"])
    yesterday = today() - timedelta(days=1)
    gift(east_clerk, east_reviewer, east, campaign, day=yesterday)  # a district taking gifts for the city's campaign
    published(publisher, city, start=yesterday, campaign=campaign)  # already out
    drafted = bulletins_draft_due(today=today())
    assert [(b.branch_id, b.kind, b.period_start) for b in drafted] == [(east.pk, "receipt", yesterday)]


# --- public pages -------------------------------------------------------------------------------


def test_the_detail_page_shows_rows_totals_hashes_and_how_to_verify(client, clerk, reviewer, publisher, city, chain):
    bulletin = chain[1]
    response = client.get(detail_url(bulletin))
    assert response.status_code == 200
    page = response.content.decode()
    assert "接收公示" in page and "第2期" in page
    assert bulletin.content_hash in page and bulletin.previous_hash in page
    assert chain[0].content_hash == bulletin.previous_hash
    assert "sha256sum" in page
    assert bulletin.content["rows"][0]["serial"] in page and "101.00" in page
    data = client.get(detail_url(bulletin, "disclosure:bulletin_json")).content
    assert hashlib.sha256(data).hexdigest() == bulletin.content_hash
    assert client.get(reverse("disclosure:bulletin", args=[city.code, "receipt", 99])).status_code == 404
    assert client.get(reverse("disclosure:bulletin", args=[city.code, "nonsense", 1])).status_code == 404


def test_the_detail_page_shows_amounts_with_thousands_separators(client, clerk, reviewer, publisher, city, campaign):
    gift(clerk, reviewer, city, campaign, day=today() - timedelta(days=1), amount="1234567.80")
    bulletin = published(publisher, city, start=today() - timedelta(days=1))
    page = client.get(detail_url(bulletin)).content.decode()
    assert "1,234,567.80 元" in page  # the row
    assert "<strong>1,234,567.80</strong>" in page  # the total
    assert "1234567.80" not in page


def test_a_published_page_is_rendered_once_and_then_served_without_reading_its_rows(client, chain):
    cache.clear()
    bulletin = chain[1]
    first = client.get(detail_url(bulletin))
    read = []

    def spy(execute, sql, params, many, context):
        read.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        again = client.get(detail_url(bulletin))
    assert again.content == first.content
    # the bulletin without its content, and its neighbours: never the content column
    assert len(read) == 2 and not any('"content"' in sql for sql in read), read
    # what still changes around a published bulletin is not kept stale: the next issue's link
    assert "第3期" in first.content.decode()
    for page in ("-5", "99999999999999999999999", "abc", "2"):
        response = client.get(detail_url(bulletin), {"page": page})
        assert response.status_code == 200 and bulletin.content_hash in response.content.decode()


def test_the_english_bulletin_page_has_no_fixed_chinese_punctuation(client, chain):
    client.cookies["django_language"] = "en"
    page = client.get(detail_url(chain[1])).content.decode()
    assert 'lang="en"' in page
    body = page.split("<main", 1)[1].split("</main>", 1)[0]
    body = body.replace(chain[1].content["title"], "")  # the published title is quoted as it was hashed
    # names and campaign titles may be Chinese; the page's own words and punctuation may not
    for mark in "（），；：、":
        assert mark not in body, (mark, body[body.index(mark) - 80 : body.index(mark) + 20])


def test_archive_is_keyset_paginated_and_filtered(client, publisher, city, campaign, django_assert_max_num_queries):
    start = today() - timedelta(days=60)
    for n in range(23):
        published(publisher, city, "usage" if n % 4 == 0 else "receipt", start=start + timedelta(days=n))
    url = reverse("disclosure:bulletins")
    with django_assert_max_num_queries(4):
        first = client.get(url)
    page = first.context["page"]
    assert len(page.bulletins) == 20 and page.next_cursor
    newest = Bulletin.objects.order_by("-published_at", "-id").values_list("pk", flat=True)
    second = client.get(url, {"cursor": page.next_cursor}).context["page"]
    shown = [b.pk for b in page.bulletins] + [b.pk for b in second.bulletins]
    assert shown == list(newest) and not second.next_cursor
    usage = client.get(url, {"kind": "usage"}).context["page"].bulletins
    assert {b.kind for b in usage} == {"usage"} and len(usage) == 6
    assert client.get(url, {"campaign": campaign.slug}).context["page"].bulletins == []
    assert client.get(url, {"cursor": "forged"}).status_code == 400
    assert client.get(url, {"kind": "<script>"}).status_code == 400
    assert client.get(url, {"campaign": "x" * 10000}).status_code == 400
    for hostile in ("\x00", "a\x00b", "' OR 1=1 --", "<b>x</b>"):
        assert client.get(url, {"campaign": hostile}).status_code == 400
        assert client.get(url, {"branch": hostile}).status_code == 400
        assert client.get(reverse("disclosure:bulletin_verify"), {"branch": hostile}).status_code == 400
    assert client.get(f"/disclosure/bulletins/{city.code}%00/receipt/1/").status_code == 404


def test_the_feed_is_valid_atom_with_the_latest_bulletins(client, chain):
    response = client.get(reverse("disclosure:bulletins_feed"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own feed, not untrusted input
    assert root.tag == f"{ATOM}feed"
    assert root.find(f"{ATOM}title").text == "信息公示"
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 3
    newest = entries[0]
    assert newest.find(f"{ATOM}title").text.endswith(f"接收公示第3期：{chain[2].title}")
    assert newest.find(f"{ATOM}link").get("href").endswith(detail_url(chain[2]))
    assert newest.find(f"{ATOM}updated").text and newest.find(f"{ATOM}id").text
    assert chain[2].content_hash in newest.find(f"{ATOM}summary").text


def test_the_campaign_page_lists_its_bulletins(client, clerk, reviewer, publisher, city, campaign):
    yesterday = today() - timedelta(days=1)
    gift(clerk, reviewer, city, campaign, day=yesterday)
    bulletin = published(publisher, city, start=yesterday, campaign=campaign)
    published(publisher, city, start=yesterday)  # the whole branch's: not the campaign's own
    page = client.get(reverse("disclosure:campaign", args=[campaign.slug])).content.decode()
    assert detail_url(bulletin) in page and "接收公示第1期" in page
    assert "接收公示第2期" not in page


# --- the trace names the bulletins --------------------------------------------------------------


def test_the_trace_and_the_donation_page_name_the_bulletins(
    client, clerk, reviewer, publisher, officer, city, campaign, hospital, django_assert_max_num_queries
):
    yesterday = today() - timedelta(days=1)
    donation = gift(clerk, reviewer, city, campaign, day=yesterday, amount="300.00")
    allocation = paid(officer, reviewer, city, campaign, hospital, "120.00", day=yesterday)
    trace = donation_trace(Donation.objects.get(pk=donation.pk))
    assert trace.steps[0].bulletin == "" and trace.receipt_bulletin == ""
    published(publisher, city, start=yesterday, campaign=campaign)
    published(publisher, city, "usage", start=yesterday - timedelta(days=1))  # another period
    usage = published(publisher, city, "usage", start=yesterday, campaign=campaign)
    assert list(usage.allocations.all()) == [allocation]

    fresh = Donation.objects.get(pk=donation.pk)
    # three queries, plus one per registered trace-outcome provider (the relief projects)
    with django_assert_max_num_queries(4):
        trace = donation_trace(fresh)
        step = trace.steps[0]
    assert step.bulletin == "使用公告第2期"
    assert step.bulletin_url == detail_url(usage)
    assert trace.receipt_bulletin == "接收公示第1期"
    page = client.get(reverse("disclosure:donation", args=[donation.serial])).content.decode()
    assert "使用公告第2期" in page and detail_url(usage) in page and "接收公示第1期" in page
    api = client.get(f"/api/public/donations/{donation.serial}/").json()
    assert api["trace"][0]["bulletin"] == "使用公告第2期"


# --- admin --------------------------------------------------------------------------------------


def test_admin_drafts_edits_publishes_and_shows_published_bulletins_read_only(client, clerk, publisher, city):
    day = today() - timedelta(days=4)
    client.force_login(clerk)
    response = client.post(
        reverse("admin:donations_bulletin_add"),
        {"branch": city.pk, "kind": "receipt", "period_start": day, "period_end": day, "title": "", "errata": ""},
    )
    bulletin = Bulletin.objects.get()
    assert response.status_code == 302 and bulletin.drafted_by == clerk
    change = reverse("admin:donations_bulletin_change", args=[bulletin.pk])
    response = client.post(change, {"title": "新标题", "errata": "第0期无勘误"})
    assert response.status_code == 302
    bulletin.refresh_from_db()
    assert (bulletin.title, bulletin.errata) == ("新标题", "第0期无勘误")
    response = client.post(
        reverse("admin:donations_bulletin_changelist"),
        {"action": "publish_selected", "_selected_action": [bulletin.pk]},
    )
    assert Bulletin.objects.get().status == "draft"  # clerks cannot publish

    client.force_login(publisher)
    assert client.get(reverse("admin:donations_bulletin_publish", args=[bulletin.pk])).status_code == 200
    response = client.post(reverse("admin:donations_bulletin_publish", args=[bulletin.pk]))
    assert response.status_code == 302
    bulletin.refresh_from_db()
    assert bulletin.status == "published" and bulletin.number == 1
    page = client.get(change).content.decode()
    assert 'name="title"' not in page  # read-only once published
    client.post(change, {"title": "改掉", "errata": ""})
    assert Bulletin.objects.get().title == "新标题"
    delete = client.post(reverse("admin:donations_bulletin_delete", args=[bulletin.pk]), {"post": "yes"})
    assert delete.status_code == 403 and Bulletin.objects.exists()
    listing = client.get(reverse("admin:donations_bulletin_changelist"), {"status__exact": "published"})
    assert listing.status_code == 200 and "接收公示第1期" in listing.content.decode()
    assert client.get(reverse("admin:donations_bulletin_pdf", args=[bulletin.pk])).status_code == 403  # not rendered
    bulletin_render_pdf(bulletin_id=bulletin.pk)
    pdf = client.get(reverse("admin:donations_bulletin_pdf", args=[bulletin.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


def test_district_staff_see_only_their_branchs_bulletins_in_the_admin(client, publisher, city, branch_tree, east_staff):
    day = today() - timedelta(days=4)
    city_bulletin = published(publisher, city, start=day)
    east_draft = draft(branch_tree["east"], start=day)
    client.force_login(east_staff)
    listing = client.get(reverse("admin:donations_bulletin_changelist"))
    assert listing.status_code == 200
    shown = [b.pk for b in listing.context["cl"].result_list]
    assert shown == [east_draft.pk]
    assert client.get(reverse("admin:donations_bulletin_change", args=[city_bulletin.pk])).status_code == 302
    assert Decimal(city_bulletin.content["totals"]["total"]) == Decimal("0.00")
