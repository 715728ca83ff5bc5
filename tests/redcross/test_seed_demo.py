from io import StringIO

import pytest
from django.core.management import call_command

from redcross.models import Branch, BranchLevel, User

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_builds_the_tree(settings):
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


def test_seed_demo_creates_no_accounts_in_production(settings):
    settings.DEBUG = False
    call_command("seed_demo", stdout=StringIO())
    assert Branch.objects.exists()
    assert not User.objects.exists()
