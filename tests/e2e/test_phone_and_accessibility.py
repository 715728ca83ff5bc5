"""Every public page on a 390 px phone without sideways scrolling, and axe-core on every public page
and the main admin pages with no serious or critical violation (issue 13).

Screenshots go to var/test/screenshots/ for a person to look at. axe-core (tests/e2e/vendor/,
MPL-2.0) is evaluated through the browser's debugging protocol, not as a page script: the site's
Content-Security-Policy stays as it is for the pages under test.
"""

from pathlib import Path

import pytest
from django.core.management import call_command

from donations.models import Bulletin, BulletinKind, BulletinStatus, Certificate, Donation, Receipt
from tests.e2e.test_donation_flow import login
from training.models import Certificate as TrainingCertificate
from training.models import Registration, RegistrationStatus, RescueCase

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def demo(db):
    call_command("seed_demo", "--with-users", verbosity=0)


def public_pages() -> list[str]:
    donation = Donation.objects.public().order_by("-received_at").first()
    receipt = Receipt.objects.filter(status="valid").order_by("id").first()
    certificate = Certificate.objects.order_by("id").first()
    pages = [
        "/",
        "/disclosure/",
        "/disclosure/?kind=in_kind",
        "/disclosure/campaigns/",
        "/disclosure/campaigns/demo-epidemic-2026/",
        f"/disclosure/donations/{donation.serial}/",
        "/disclosure/bulletins/",
        "/disclosure/bulletins/verify/",
        "/disclosure/deadlines/",
        "/donations/lookup/",
        f"/donations/d/{donation.lookup_token}/",
        f"/donations/verify/{certificate.verification_code}/",
        f"/donations/receipts/verify/{receipt.invoice_code}/{receipt.number_display}/{receipt.check_code}/",
        "/verify/",
        f"/verify/{TrainingCertificate.objects.issued_here().order_by('id').first().verification_code}/",
    ]
    rescue_case = RescueCase.objects.filter(status="published").order_by("id").first()
    waiting = Registration.objects.filter(status=RegistrationStatus.WAITLISTED).select_related("session").first()
    pages += [
        "/training/",
        f"/training/sessions/{waiting.session_id}/",
        f"/training/sessions/{waiting.session_id}/register/",
        f"/training/r/{waiting.management_token}/",
        "/training/aeds/",
        "/training/aeds/?lat=30.262&lng=120.161",
        "/training/aeds/?district=LZDH",
        "/training/rescue-cases/",
        f"/training/rescue-cases/{rescue_case.pk}/",
    ]
    pages += relief_pages()
    for kind in (BulletinKind.RECEIPT, BulletinKind.USAGE):
        published = Bulletin.objects.filter(status=BulletinStatus.PUBLISHED, kind=kind).select_related("branch")
        bulletin = published.order_by("-id").first()
        if bulletin is not None:
            pages.append(f"/disclosure/bulletins/{bulletin.branch.code}/{bulletin.kind}/{bulletin.number}/")
    return pages


def relief_pages() -> list[str]:
    from relief.models import Application, Project

    winter = Project.objects.get(kind="winter", is_referral=False)
    referral = Project.objects.filter(is_referral=True).first()
    online = Application.objects.order_by("id").first()
    return [
        "/relief/",
        f"/relief/projects/{winter.pk}/",
        f"/relief/projects/{referral.pk}/",
        f"/relief/projects/{winter.pk}/apply/",
        "/relief/status/",
        f"/relief/a/{online.management_token}/",
    ]


def serious_violations(page) -> list[str]:
    page.evaluate(AXE)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _name(path: str) -> str:
    if path.startswith("/donations/d/"):
        path = "/donations/d/token/"  # a donor's private link stays out of file names
    if path.startswith("/training/r/"):
        path = "/training/r/token/"  # so does a registrant's
    if path.startswith("/relief/a/"):
        path = "/relief/a/token/"  # and an applicant's
    return (path.strip("/").replace("/", "_").replace("?", "_").replace("=", "-") or "home")[:80]


def test_every_public_page_fits_a_phone_and_passes_axe(page, live_server, demo, screenshot_dir):
    page.set_viewport_size(PHONE)
    problems = []
    for path in public_pages():
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        page.wait_for_load_state("load")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            problems.append(f"{path}: {overflow} px wider than the phone")
        page.screenshot(path=screenshot_dir / f"phone-{_name(path)}.png", full_page=False)
        problems += [f"{path}: {v}" for v in serious_violations(page)]
    print("\n".join(problems))
    assert problems == []


def test_honor_roll_on_a_phone_is_cards_with_filters_behind_one_button(page, live_server, demo):
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/disclosure/")
    toggle = page.get_by_role("button", name="筛选与搜索")
    assert page.locator("#roll-filters").is_hidden()
    box = toggle.bounding_box()
    assert box["height"] >= 44
    toggle.click()
    assert page.locator("#roll-filters").is_visible()
    assert toggle.get_attribute("aria-expanded") == "true"
    # the table head is for screen readers only; each gift is a card a few lines high
    heights = page.evaluate(
        "Array.from(document.querySelectorAll('table.honor tbody tr')).map(r => r.getBoundingClientRect().height)"
    )
    # a gift with goods, a directed recipient and 补办手续 takes a few lines more
    assert heights and max(heights) < 300 and sum(heights) / len(heights) < 170
    for link in page.locator("table.honor td.c-serial a").all()[:5]:
        assert link.bounding_box()["height"] >= 44


def test_campaign_charts_fit_a_phone(page, live_server, demo, screenshot_dir):
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/disclosure/campaigns/demo-epidemic-2026/")
    page.wait_for_selector("#chart-daily svg")
    for chart in ("#chart-daily", "#chart-kinds"):
        box = page.locator(chart).bounding_box()
        assert box["width"] <= PHONE["width"]
        svg = page.locator(f"{chart} svg").bounding_box()
        assert svg["width"] <= box["width"] + 1
    page.locator("#chart-daily").screenshot(path=screenshot_dir / "phone-campaign-chart.png")


ADMIN_PAGES = [
    "/admin/",
    "/admin/donations/donation/",
    "/admin/donations/donation/add/",
    "/admin/donations/receipt/",
    "/admin/donations/allocation/",
    "/admin/donations/stockmovement/",
    "/admin/donations/bulletin/",
    "/admin/training/session/",
    "/admin/training/registration/",
]


def test_main_admin_pages_pass_axe(page, live_server, demo, screenshot_dir):
    page.set_viewport_size({"width": 1366, "height": 900})
    login(page, live_server, "admin", password="redcross-demo-2026")
    donation = Donation.objects.order_by("id").first()
    receipt = Receipt.objects.order_by("id").first()
    problems = []
    own_pages = [f"/admin/donations/donation/{donation.pk}/change/", f"/admin/donations/receipt/{receipt.pk}/change/"]
    for path in [*ADMIN_PAGES, *own_pages]:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        page.screenshot(path=screenshot_dir / f"admin-{_name(path)}.png")
        problems += [f"{path}: {v}" for v in serious_violations(page)]
    print("\n".join(problems))
    assert problems == []
