from io import StringIO

import pytest
from django.core.management import call_command

from redcross.models import Branch, BranchLevel, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_pdf_rendering(monkeypatch):
    # the demo issues ~60 receipts and certificates; their PDFs are tested elsewhere
    from donations import tasks

    monkeypatch.setattr(tasks.receipt_render_pdf_task, "delay", lambda *a, **k: None)
    monkeypatch.setattr(tasks.certificate_render_pdf_task, "delay", lambda *a, **k: None)


def test_seed_demo_is_idempotent_and_builds_the_tree(settings, no_pdf_rendering):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", stdout=out)
    counts = (Branch.objects.count(), User.objects.count(), Branch.history.count(), User.history.count())
    call_command("seed_demo", stdout=StringIO())
    assert (Branch.objects.count(), User.objects.count(), Branch.history.count(), User.history.count()) == counts
    assert Branch.objects.filter(level=BranchLevel.CITY).count() == 1
    assert Branch.objects.filter(level=BranchLevel.COUNTY).count() >= 4
    assert Branch.objects.filter(level=BranchLevel.GRASSROOTS).values("grassroots_kind").distinct().count() >= 4
    assert "redcross-demo-2026" in out.getvalue()
    donghu = User.objects.get(username="donghu")
    assert donghu.branch.level == BranchLevel.COUNTY
    assert donghu.groups.filter(name="区县红十字会工作人员").exists()
    assert donghu.check_password("redcross-demo-2026")


def test_seed_demo_shows_donations_in_every_state(settings, no_pdf_rendering):
    from donations.models import Donation, DonationStatus, Receipt, ReceiptCode

    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    donations = Donation.objects.count()
    assert donations >= 30
    assert Donation.objects.filter(kind="in_kind").exists()
    assert Donation.objects.filter(status=DonationStatus.REGISTERED).exists()  # waiting for the second signature
    assert Receipt.objects.exists()
    # every demo receipt carries the invented 票据代码 registered for the year, not the fallback:
    # the city's one code, and each district's own (a code is unique to one branch)
    codes = set(Receipt.objects.filter(branch__code="LZ").values_list("invoice_code", flat=True))
    assert len(codes) == 1 and codes.pop().startswith("9901")
    registered = {(c.branch_id, c.year): c.code for c in ReceiptCode.objects.all()}
    for branch_id, year, code in Receipt.objects.values_list("branch_id", "year", "invoice_code"):
        assert code == registered[(branch_id, year)] and code.startswith("99")
    # donation letters attached as rendered PDFs (the staff API's evidence files)
    from donations.models import Attachment

    letters = list(Attachment.objects.filter(kind="letter"))
    assert len(letters) == 3 and all(letter.file.open("rb").read(5) == b"%PDF-" for letter in letters)
    call_command("seed_demo", stdout=StringIO())
    assert Donation.objects.count() == donations and Attachment.objects.count() == 3


def test_seed_demo_creates_no_accounts_in_production(settings):
    settings.DEBUG = False
    call_command("seed_demo", stdout=StringIO())
    assert Branch.objects.exists()
    assert not User.objects.exists()


DISTRICT_LOGINS = ("donghu", "xijiang", "nanshan", "beitang", "linxi", "baishi")


def _snapshot() -> dict[str, int]:
    from donations import models as d
    from redcross.models import Person
    from reports.models import ReportExport
    from training import models as t

    tables = [
        d.Donor, d.Donation, d.DonationItem, d.Receipt, d.ReceiptCode, d.Recipient, d.Warehouse, d.StockMovement,
        d.AllocationPlan, d.Allocation, d.AllocationSource, d.RecipientConfirmation, d.Bulletin, d.Attachment,
        d.ReconciliationRun, ReportExport, Branch, User, Person, t.TrainingPlan, t.Session, t.Attendance,
        t.Certificate,
    ]  # fmt: skip
    counts = {model.__name__: model.objects.count() for model in tables}
    counts |= {f"history:{model.__name__}": model.history.count() for model in (d.Donation, d.Allocation, User)}
    return counts


@pytest.fixture
def demo(settings, no_pdf_rendering):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())


def test_seeding_twice_adds_nothing_anywhere(demo):
    before = _snapshot()
    assert before["Donation"] > 60 and before["ReportExport"] == 2  # the districts' gifts and last month's report
    call_command("seed_demo", stdout=StringIO())
    assert _snapshot() == before


def test_every_district_does_its_own_work_under_two_signatures(demo):
    from donations.models import (
        Allocation,
        Bulletin,
        BulletinStatus,
        Donation,
        Receipt,
        RecipientConfirmation,
        StockMovement,
    )

    counties = Branch.objects.filter(level=BranchLevel.COUNTY)
    assert counties.count() == len(DISTRICT_LOGINS) == 6
    for branch in counties:
        staff = set(User.objects.filter(branch=branch).values_list("pk", flat=True))
        gifts = Donation.objects.filter(branch=branch)
        assert {"cash", "in_kind"} <= set(gifts.values_list("kind", flat=True)), branch
        assert gifts.filter(status="registered").exists() and gifts.filter(status="confirmed").exists()
        assert Receipt.objects.filter(branch=branch).exists()
        # done by the district's own people: registered by one, confirmed by another
        assert set(gifts.values_list("registered_by", flat=True)) <= staff
        assert set(gifts.exclude(confirmed_by=None).values_list("confirmed_by", flat=True)) <= staff
        allocations = Allocation.objects.filter(branch=branch, status="confirmed")
        assert {"cash", "in_kind"} <= set(allocations.values_list("kind", flat=True))
        assert RecipientConfirmation.objects.filter(allocation__branch=branch).exists()
        assert allocations.filter(recipient_confirmation__isnull=True).exists()  # one sign-off outstanding
        order = allocations.get(kind="in_kind")
        for movement in StockMovement.objects.filter(allocation=order):
            assert movement.status == "confirmed" and movement.recorded_by_id != movement.confirmed_by_id
        assert StockMovement.objects.filter(warehouse__branch=branch, status="pending").exists()
        assert Bulletin.objects.filter(branch=branch, status=BulletinStatus.PUBLISHED).exists(), branch
        assert Bulletin.objects.filter(branch=branch, status=BulletinStatus.DRAFT).exists()


def test_each_district_publishes_a_bulletin_the_public_can_open(client, demo):
    from donations.models import Bulletin, BulletinStatus

    for branch in Branch.objects.filter(level=BranchLevel.COUNTY):
        bulletin = Bulletin.objects.filter(branch=branch, status=BulletinStatus.PUBLISHED).first()
        assert bulletin is not None and bulletin.content["rows"], branch
        page = client.get(f"/disclosure/bulletins/{branch.code}/{bulletin.kind}/{bulletin.number}/")
        assert page.status_code == 200 and branch.name in page.content.decode()


def test_a_district_login_sees_its_own_rows_and_only_those(client, demo):
    from donations.models import Allocation, Bulletin, Donation, StockMovement

    user = User.objects.get(username="donghu")
    client.force_login(user)
    for url, queryset in (
        ("/admin/donations/donation/", Donation.objects.all()),
        ("/admin/donations/allocation/", Allocation.objects.all()),
        ("/admin/donations/stockmovement/", StockMovement.objects.all()),
    ):
        page = client.get(url).content.decode()
        own = queryset.filter(serial__startswith="LZDH")
        assert own.count() >= 2, url
        for serial in queryset.values_list("serial", flat=True):
            assert (serial in page) == serial.startswith("LZDH"), (url, serial)
    page = client.get("/admin/donations/bulletin/").content.decode()
    for bulletin in Bulletin.objects.select_related("branch"):
        listed = f"/admin/donations/bulletin/{bulletin.pk}/change/" in page
        assert listed == (bulletin.branch.code == "LZDH"), bulletin


def test_every_workbench_line_has_work_somewhere_and_districts_count_their_own(demo):
    from redcross.workbench import todo_items

    def counts(username: str) -> dict[str, int]:
        return {item.line.key: item.count for item in todo_items(User.objects.get(username=username))}

    busiest: dict[str, int] = {}
    for user in User.objects.all():
        for key, count in counts(user.username).items():
            busiest[key] = max(busiest.get(key, 0), count)
    idle = {key for key, count in busiest.items() if count == 0}
    assert idle <= {"reports.failed_exports"}, idle  # no export is made to fail for the demo
    for login in DISTRICT_LOGINS:
        officer, reviewer, keeper = counts(login), counts(f"{login}-fh"), counts(f"{login}-bg")
        assert officer["donations.allocations_awaiting_signoff"] == 1 and officer["donations.bulletin_drafts"] == 1
        assert reviewer["donations.awaiting_confirmation"] == 1 and reviewer["donations.awaiting_receipt"] == 1
        assert keeper["donations.movements_awaiting_second_keeper"] == 1
    city = counts("reviewer")
    assert city["donations.awaiting_confirmation"] > counts("donghu-fh")["donations.awaiting_confirmation"]
    assert counts("leader")["donations.disclosure_due"] >= 1


def test_last_months_report_is_a_generated_file(demo):
    from reports.models import ExportStatus, ReportExport
    from reports.periods import ReportPeriod

    period = ReportPeriod.last_month()
    export = ReportExport.objects.get(format="xlsx", period_kind=period.kind, period_value=period.value)
    assert export.status == ExportStatus.DONE and export.branch.code == "LZ"
    with export.file.open("rb") as handle:
        content = handle.read()
    assert content[:2] == b"PK" and len(content) == export.size > 1000  # an XLSX (zip) written by the service


def test_last_years_training_reads_like_the_seeds(demo):
    """Nanning's 为民办实事 project: 415 sessions planned for 20,750 people, 446 held for 47,496."""
    from django.utils import timezone

    from redcross.selectors import BranchScope
    from training.selectors.plans import plan_vs_actual

    figures = plan_vs_actual(Branch.objects.get(code="LZ"), timezone.localdate().year - 1, BranchScope.SYSTEM)
    assert (figures.planned_sessions, figures.planned_people) == (415, 20_750)
    assert (figures.held_sessions, figures.people_trained) == (446, 47_496)
