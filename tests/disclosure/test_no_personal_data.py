"""Walk every public page and open-data endpoint on the demo data and fail if personal data leaks;
then fuzz the open data API with hostile input (no 500, no injected tag)."""

from __future__ import annotations

import datetime
import json
import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.cache import cache
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from donations.models import Donation, Donor, DonorKind, PublicDisplay, Recipient
from donations.services.donors import donor_register
from donations.services.intake import donation_confirm, donation_register
from redcross.models import Person, User
from training.models import Aed, EquipmentSite, RescueCase
from training.models import Certificate as TrainingCertificate

pytestmark = pytest.mark.django_db

HREF = re.compile(r'href="([^"#]+)"')
PUBLIC_PREFIXES = ("/disclosure/", "/api/public/", "/donations/lookup/", "/training/", "/verify/", "/relief/")
UNCONFIRMED_DONOR = "澜州待复核爱心贸易有限公司"


@pytest.fixture
def demo(django_db_blocker):
    cache.clear()
    call_command("seed_demo", "--with-users", verbosity=0)
    city = User.objects.get(username="clerk").branch
    clerk, reviewer = User.objects.get(username="clerk"), User.objects.get(username="reviewer")
    # a person with an ID number and an address, and an anonymous organisation
    person = donor_register(
        by=clerk, branch=city, kind=DonorKind.PERSON, name="司马相如", phone="13912340000",
        id_number="11010519491231002X", address="澜州市东湖区幸福路 1 号 2 单元 301",
    )  # fmt: skip
    hidden = donor_register(
        by=clerk, branch=city, kind=DonorKind.ORGANISATION, name="澜州隐名投资有限公司",
        public_display=PublicDisplay.ANONYMOUS, phone="0571-86009876", address="澜州市西江区隐名大厦",
    )  # fmt: skip
    from donations.models import Campaign

    campaign = Campaign.objects.get(slug="demo-epidemic-2026")
    from django.utils import timezone

    for donor in (person, hidden):
        gift = donation_register(
            by=clerk, branch=city, donor=donor, campaign=campaign, kind="cash", channel="bank",
            received_at=timezone.now(), amount="88.00",
        )  # fmt: skip
        donation_confirm(donation=gift, by=reviewer)
    # registered, never confirmed (双人双签 not done): no public page may show it
    pending = donor_register(by=clerk, branch=city, kind=DonorKind.ORGANISATION, name=UNCONFIRMED_DONOR)
    donation_register(
        by=clerk, branch=city, donor=pending, campaign=campaign, kind="cash", channel="bank",
        received_at=timezone.now(), amount="77.00",
    )  # fmt: skip
    # a certificate holder with an ID number and a birth date (the demo's trainees have neither)
    holder = TrainingCertificate.objects.issued_here().order_by("pk").first().person
    holder.id_number, holder.birth_date = "110105199003071234", datetime.date(1990, 3, 7)
    holder.save()
    cache.clear()
    yield
    cache.clear()


def sensitive_strings() -> set[str]:
    found: set[str] = set()
    for donor in Donor.objects.all():
        found |= {donor.phone, donor.id_number, donor.address, donor.email}
        if donor.phone:
            found.add(donor.phone.replace("-", ""))
        shows_name = (donor.kind == DonorKind.ORGANISATION and donor.public_display != PublicDisplay.ANONYMOUS) or (
            donor.public_display == PublicDisplay.FULL and donor.full_name_consent_at
        )
        if not shows_name:
            found.add(donor.name)
    for recipient in Recipient.objects.all():
        found |= {recipient.phone, recipient.contact_person}
    for user in User.objects.all():
        found |= {user.phone, user.email}
    # persons (trainees, instructors): a training certificate's page shows the masked name only
    for person in Person.objects.all():
        found |= {person.name, person.phone, person.id_number}
        if person.birth_date:
            found |= {person.birth_date.isoformat(), f"{person.birth_date:%Y年%-m月%-d日}"}

    found |= set(RescueCase.objects.values_list("rescuer__name", flat=True))
    # who checks an AED, its serial number and staff notes, a school's contact
    for aed in Aed.objects.select_related("last_checked_by"):
        found |= {aed.serial_number, aed.note}
        if aed.last_checked_by:
            found.add(aed.last_checked_by.last_name + aed.last_checked_by.first_name)
    for site in EquipmentSite.objects.all():
        found |= {site.contact_name, site.contact_phone}
    # relief: nothing of a beneficiary, a household member or an application's account
    from relief.models import Application, Beneficiary, HouseholdMember

    for beneficiary in Beneficiary.objects.all():
        found |= {beneficiary.name, beneficiary.id_number, beneficiary.phone, beneficiary.address}
        found |= {beneficiary.illness, beneficiary.income, beneficiary.disability}
    for member in HouseholdMember.objects.all():
        found |= {member.name, member.id_number}
    for application in Application.objects.all():
        found |= {application.number, application.situation, application.management_token}
    from relief.models import Aid

    found |= set(Aid.objects.values_list("number", flat=True))  # a disbursement is never listed by itself
    return {value for value in found if value and len(value) >= 2}


def crawl(client, start: list[str], limit: int = 400) -> dict[str, str]:
    seen: dict[str, str] = {}
    queue = deque(start)
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url)
        assert response.status_code < 500, url
        body = (b"".join(response.streaming_content) if response.streaming else response.content).decode(
            "utf-8", "replace"
        )
        seen[url] = body
        links = HREF.findall(body)
        if response.get("Content-Type", "").startswith("application/json"):
            data = json.loads(body)
            if isinstance(data, dict) and data.get("next"):
                links.append(f"{urlsplit(url).path}?cursor={data['next']}")
            results = data.get("results", data) if isinstance(data, dict) else data
            for row in results if isinstance(results, list) else []:
                for key, prefix in (
                    ("serial", "/api/public/donations/"),
                    ("slug", "/api/public/campaigns/"),
                    ("id", "/api/public/bulletins/"),
                ):
                    if isinstance(row, dict) and key in row and prefix in url:
                        links.append(f"{prefix}{row[key]}/")
        for link in links:
            link = urljoin(url, link.replace("&amp;", "&"))
            parts = urlsplit(link)
            if parts.netloc and parts.netloc != "testserver":
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path.startswith(PUBLIC_PREFIXES) or path == "/":
                queue.append(path)
    return seen


def test_no_public_page_or_endpoint_shows_personal_data(client, demo):
    training_pages = [f"/verify/{c.verification_code}/" for c in TrainingCertificate.objects.issued_here()]
    # the demo's usage announcement that lists the relief projects' disbursements (counts and totals)
    from donations.models import Bulletin

    relief_bulletin = Bulletin.objects.get(content__has_key="usage_lines")
    relief_bulletin_page = f"/disclosure/bulletins/{relief_bulletin.branch.code}/usage/{relief_bulletin.number}/"
    pages = crawl(
        client,
        [*training_pages, "/verify/",
         "/", "/disclosure/", "/disclosure/campaigns/", "/disclosure/honor-roll.csv", "/disclosure/bulletins/",
         "/disclosure/bulletins/feed.atom", "/disclosure/deadlines/", "/api/public/donations/",
         "/api/public/campaigns/", "/api/public/allocations/", "/api/public/bulletins/",
         "/training/", "/training/calendar.ics",
         "/training/aeds/", "/training/aeds/?lat=30.26&lng=120.16", "/training/aeds.geojson",
         "/relief/", "/relief/status/", relief_bulletin_page, f"{relief_bulletin_page}content.json"],
    )  # fmt: skip
    assert len(pages) > 40  # the walk reached donation pages, campaign pages and API details
    assert any(url.startswith("/disclosure/donations/") for url in pages)
    assert any(url.startswith("/api/public/donations/LZ") for url in pages)
    assert any(url.startswith("/disclosure/bulletins/LZ/") for url in pages)
    # the districts' own gifts and bulletins, whose donors and recipients have phones and addresses
    assert any(url.startswith("/disclosure/bulletins/LZDH/") for url in pages)
    assert any(url.startswith(("/disclosure/donations/LZXJ", "/api/public/donations/LZXJ")) for url in pages)
    assert any(url.startswith("/api/public/bulletins/") and url[-2].isdigit() for url in pages)
    # the course calendar, session pages, their registration forms and feeds
    assert sum(url.startswith("/training/sessions/") and url.endswith("/register/") for url in pages) >= 5
    assert any(url.startswith("/training/sessions/") and url.endswith(".ics") for url in pages)
    assert any(url.startswith("/training/rescue-cases/") and url[-2].isdigit() for url in pages)
    # the relief projects, their pages and the online application forms
    assert sum(url.startswith("/relief/projects/") and url.endswith("/apply/") for url in pages) >= 3
    assert sum(url.startswith("/relief/projects/") and url[-2].isdigit() for url in pages) >= 5
    # the announcement lists the projects' disbursements, and the project pages link to it
    assert "人道救助发放（按项目）" in pages[relief_bulletin_page]
    assert '"usage_lines"' in pages[f"{relief_bulletin_page}content.json"]
    assert any(
        url.startswith("/relief/projects/") and f'href="{relief_bulletin_page}"' in body for url, body in pages.items()
    )
    secrets = sensitive_strings()
    from relief.models import Beneficiary

    head = Beneficiary.objects.exclude(address="").exclude(phone="").exclude(id_number="").first()
    assert {head.name, head.id_number, head.phone, head.address} <= secrets
    assert Beneficiary.objects.exclude(illness="").exists()
    assert "司马相如" in secrets and "11010519491231002X" in secrets
    district_donors = Donor.objects.filter(branch__level="county")
    assert district_donors.exclude(phone="").exists() and district_donors.exclude(address="").exists()
    assert Recipient.objects.filter(branch__level="county").exclude(phone="").exclude(contact_person="").exists()
    leaks = {(url, secret) for url, body in pages.items() for secret in secrets if secret in body}
    assert not leaks, sorted(leaks)[:10]
    everything = "\n".join(pages.values())
    assert "司马**" in everything and "爱心人士" in everything
    assert all(page in pages for page in training_pages) and "证书已撤销" in everything
    unconfirmed = Donation.objects.get(donor__name=UNCONFIRMED_DONOR)
    assert UNCONFIRMED_DONOR not in everything and unconfirmed.serial not in everything


def public_operations():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        if path.startswith("/api/public/") and "get" in operations:
            yield path, list(operations["get"].get("parameters", []))


HOSTILE = [
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "'; DROP TABLE donations_donation; --",
    "%00",
    "../../etc/passwd",
    "x" * 10_000,
    "-1",
    "99999999999999999999",
    "2020-02-30",
    "\u202e\u0000",
    "null",
]


def test_public_api_answers_hostile_input_without_server_errors(client, demo):
    operations = list(public_operations())
    assert {path for path, _params in operations} >= {
        "/api/public/donations/",
        "/api/public/donations/{serial}/",
        "/api/public/campaigns/",
        "/api/public/campaigns/{slug}/",
        "/api/public/allocations/",
        "/api/public/bulletins/",
        "/api/public/bulletins/{id}/",
    }
    for path, parameters in operations:
        for value in HOSTILE:
            url = re.sub(r"\{[^}]+\}", value[:200].replace("/", "%2F").replace("?", "%3F"), path)
            query = {p["name"]: value for p in parameters if p["in"] == "query"}
            for params in [{}, query, *({name: v} for name, v in query.items())]:
                response = client.get(url, params)
                assert response.status_code in (200, 400, 404), (url, params, response.status_code)
                assert b"<script>alert(1)</script>" not in response.content


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(["q", "campaign", "kind", "branch", "from", "to", "cursor"]),
    value=st.text(min_size=0, max_size=300),
)
def test_fuzzed_roll_parameters_never_fail(client, name, value):
    cache.clear()
    response = client.get("/api/public/donations/", {name: value})
    assert response.status_code in (200, 400), (name, value, response.status_code)
    page = client.get("/disclosure/", {name: value})
    assert page.status_code in (200, 400), (name, value, page.status_code)
