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
    from donations.models import Donation, DonationStatus, Receipt

    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    donations = Donation.objects.count()
    assert donations >= 30
    assert Donation.objects.filter(kind="in_kind").exists()
    assert Donation.objects.filter(status=DonationStatus.REGISTERED).exists()  # waiting for the second signature
    assert Receipt.objects.exists()
    # every demo receipt carries the invented 票据代码 registered for the year, not the fallback
    codes = set(Receipt.objects.values_list("invoice_code", flat=True))
    assert len(codes) == 1 and codes.pop().startswith("9901")
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
