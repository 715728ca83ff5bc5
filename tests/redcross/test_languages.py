"""Both languages complete (issue 13): an English page shows no Chinese outside the data (names of
donors, campaigns, branches, recipients, goods, places), and a Chinese page shows no untranslated
English label."""

import re
from html import unescape

import pytest
from django.core.management import call_command

from donations.models import (
    AllocationPlan,
    Bulletin,
    BulletinStatus,
    Campaign,
    Donation,
    DonationItem,
    Donor,
    Recipient,
    Warehouse,
)
from redcross.models import Branch
from training.models import Aed, RescueCase
from training.models import Certificate as TrainingCertificate

pytestmark = pytest.mark.django_db

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
# English words a Chinese page may show: codes, units and names that are the same in both
ALLOWED_LATIN = {"CSV", "PDF", "JSON", "API", "Atom", "QR", "AED", "SHA", "XLSX", "English", "ECharts"}


@pytest.fixture
def demo(db):
    call_command("seed_demo", "--with-users", verbosity=0)


def data_strings() -> list[str]:
    """Everything on a page that is data, not interface: longest first, so a name is removed whole."""
    values: set[str] = set()
    for branch in Branch.objects.all():
        values |= {branch.name, branch.short_name, branch.address, branch.email, branch.phone}
        values |= {branch.public_fundraising_certificate, branch.bank_name, branch.bank_account_name}
    for campaign in Campaign.objects.all():
        values |= {campaign.name, campaign.purpose, campaign.filing_number}
    for donor in Donor.objects.all():
        values |= {donor.name, donor.public_name}
    for recipient in Recipient.objects.all():
        values |= {recipient.name, recipient.address if hasattr(recipient, "address") else ""}
    for item in DonationItem.objects.all():
        values |= {item.name, item.specification, item.unit}
    for warehouse in Warehouse.objects.all():
        values |= {warehouse.name}
    for plan in AllocationPlan.objects.all():
        values |= {plan.document_number, plan.title, plan.issuing_body}
    for bulletin in Bulletin.objects.filter(status=BulletinStatus.PUBLISHED):
        values |= {bulletin.title}  # frozen at publication, in the language of the record
    from redcross.models import ConsentText
    from training.models import Registration, Session

    for session in Session.objects.all():
        values |= {session.title, session.venue}
    for text in ConsentText.objects.all():
        values |= {text.title, text.text, *text.text.splitlines()}  # a consent text is shown as written
    for registration in Registration.objects.select_related("person"):
        values |= {registration.person.masked_name}
    for aed in Aed.objects.all():
        values |= {aed.place, aed.address, aed.location_detail, aed.operator}
    for case in RescueCase.objects.all():
        values |= {case.title, case.place, case.story, case.rescuer_public_name}
    for certificate in TrainingCertificate.objects.all():
        values |= {certificate.holder_display_name, certificate.level}  # frozen on the certificate
    from relief.models import Application, Project

    for project in Project.objects.all():
        values |= {project.name, project.purpose, project.eligibility, project.referral_body}
    for application in Application.objects.select_related("beneficiary"):
        values |= {application.beneficiary.masked_name}
    values |= {"爱心人士"}  # the anonymous donor's public name is data on the record
    values |= {"简体中文"}  # the language switch names each language in itself
    return sorted((v for v in values if v), key=len, reverse=True)


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    html = re.sub(r"<!--.*?-->", " ", html, flags=re.S)
    # commands and hashes shown as code are the same in every language
    html = re.sub(r"<(code|pre|kbd)\b.*?</\1>", " ", html, flags=re.S | re.I)
    # attribute values people read: alt, title, aria-label, placeholder, data-label
    attributes = " ".join(re.findall(r'(?:alt|title|aria-label|placeholder|data-label)="([^"]*)"', html))
    return unescape(re.sub(r"<[^>]+>", " ", html) + " " + attributes)


def public_pages() -> list[str]:
    donation = Donation.objects.public().order_by("-received_at").first()
    bulletin = Bulletin.objects.filter(status=BulletinStatus.PUBLISHED).select_related("branch").first()
    return [
        "/",
        "/disclosure/",
        "/disclosure/campaigns/",
        "/disclosure/campaigns/demo-epidemic-2026/",
        f"/disclosure/donations/{donation.serial}/",
        "/disclosure/bulletins/",
        f"/disclosure/bulletins/{bulletin.branch.code}/{bulletin.kind}/{bulletin.number}/",
        "/disclosure/bulletins/verify/",
        "/disclosure/deadlines/",
        "/donations/lookup/",
        f"/donations/d/{donation.lookup_token}/",
        *training_pages(),
        "/training/aeds/",
        "/training/aeds/?lat=30.262&lng=120.161",
        "/training/rescue-cases/",
        f"/training/rescue-cases/{RescueCase.objects.filter(status='published').first().pk}/",
        "/verify/",
        *(f"/verify/{c.verification_code}/" for c in TrainingCertificate.objects.issued_here().order_by("pk")[:2]),
        *relief_pages(),
        "/no-such-page/",
    ]


def relief_pages() -> list[str]:
    from relief.models import Application, Project

    winter = Project.objects.get(kind="winter", is_referral=False)
    referral = Project.objects.filter(is_referral=True).first()
    return [
        "/relief/",
        f"/relief/projects/{winter.pk}/",
        f"/relief/projects/{referral.pk}/",
        f"/relief/projects/{winter.pk}/apply/",
        "/relief/status/",
        f"/relief/a/{Application.objects.order_by('id').first().management_token}/",
    ]


def training_pages() -> list[str]:
    from training.models import Registration, RegistrationStatus

    waiting = Registration.objects.filter(status=RegistrationStatus.WAITLISTED).first()
    session = waiting.session_id
    return [
        "/training/",
        f"/training/sessions/{session}/",
        f"/training/sessions/{session}/register/",
        f"/training/r/{waiting.management_token}/",
    ]


def test_english_pages_show_no_chinese_outside_the_data(client, demo):
    client.cookies["django_language"] = "en"
    data = data_strings()
    leftovers = {}
    for path in public_pages():
        response = client.get(path)
        assert response.status_code in (200, 404), path
        text = visible_text(response.content.decode())
        for value in data:
            text = text.replace(value, " ")
        found = sorted(set(HAN.findall(text)))
        if found:
            leftovers[path] = found
    assert leftovers == {}


def test_chinese_pages_show_no_untranslated_english_label(client, demo):
    leftovers = {}
    data = data_strings()
    for path in public_pages():
        text = visible_text(client.get(path).content.decode())
        for value in data:
            text = text.replace(value, " ")
        words = set(re.findall(r"\b[A-Za-z][a-z]{2,}(?:\s+[a-z]{2,})*\b", text)) - ALLOWED_LATIN
        if words:
            leftovers[path] = sorted(words)
    assert leftovers == {}


def test_english_admin_pages_show_no_chinese_outside_the_data(client, demo):
    from django.contrib.auth import get_user_model

    from donations.models import Allocation, Receipt

    admin = get_user_model().objects.get(username="admin")
    client.force_login(admin)
    client.cookies["django_language"] = "en"
    data = data_strings()
    for user in get_user_model().objects.all():
        data += [f"{user.last_name}{user.first_name}", user.last_name + user.first_name, user.first_name]
    for donation in Donation.objects.all():
        data += [donation.wish, donation.note]
    for allocation in Allocation.objects.all():
        data += [allocation.note]
    # a receipt is frozen as issued (its lines and its amount in capitals are the document's text), and
    # a bulletin's title is written when it is drafted
    for receipt in Receipt.objects.all():
        data += [receipt.total_in_words, *(line.get("item_name", "") for line in receipt.lines)]
    data += list(Bulletin.objects.values_list("title", flat=True))
    data = sorted({d for d in data if d}, key=len, reverse=True)
    donation = Donation.objects.order_by("id").first()
    receipt = Receipt.objects.order_by("id").first()
    leftovers = {}
    for path in [
        "/admin/",
        "/admin/donations/donation/",
        "/admin/donations/donation/add/",
        f"/admin/donations/donation/{donation.pk}/change/",
        f"/admin/donations/receipt/{receipt.pk}/change/",
        "/admin/donations/allocation/",
        "/admin/donations/bulletin/",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        text = visible_text(response.content.decode())
        for value in data:
            text = text.replace(value, " ")
        found = sorted(set(HAN.findall(text)))
        if found:
            leftovers[path] = found
    assert leftovers == {}
