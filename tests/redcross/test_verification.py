"""Verifiable documents: codes, the number + name lookup, the one public page, its limit.

The kernel is tested on a document kind of its own (a member card defined here, with its table
created for the test), so nothing here depends on an app; the donation certificate's move onto
the mechanism is tested in tests/donations/test_public_lookup.py and below.
"""

import datetime
import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.test.utils import CaptureQueriesContext, isolate_apps
from django.utils import timezone

from redcross.verification import (
    CODE_ALPHABET,
    CODE_LENGTH,
    VerifiableDocument,
    VerificationStatus,
    document_by_code,
    document_by_number_and_name,
    document_revoke,
    new_verification_code,
    register_verifiable,
    unregister_verifiable,
    verification_url,
)

ROOT = Path(__file__).resolve().parents[2]
VERIFY_LOOKUP = "/verify/"


@pytest.fixture
def card_model(transactional_db):
    """A verifiable kind that exists only in this test: its own model, table and registration."""
    with isolate_apps("redcross"):

        class TestMemberCard(VerifiableDocument):
            document_kind = "测试会员证"
            phone = models.CharField(max_length=20, blank=True)  # personal: must never be shown

            class Meta:
                app_label = "redcross"

    with connection.schema_editor() as editor:
        editor.create_model(TestMemberCard)
    register_verifiable(TestMemberCard)
    yield TestMemberCard
    unregister_verifiable(TestMemberCard)
    with connection.schema_editor() as editor:
        editor.delete_model(TestMemberCard)


def _card(model, *, number="CS2026-000001", name="欧阳娜娜", **fields):
    card = model(number=number, level="初级", phone="13912345678", **fields)
    card.set_holder(name)
    card.save()
    return card


def test_codes_are_unguessable_and_readable():
    codes = {new_verification_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET) for code in codes)
    assert not set("01OI") & set(CODE_ALPHABET)


def test_the_holder_is_masked_at_write_and_kept_only_as_a_keyed_hash(card_model):
    card = _card(card_model)
    assert card.holder_display_name == "欧阳**"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {card_model._meta.db_table}")  # noqa: S608 (a test's own table)
        row = " ".join(str(value) for value in cursor.fetchone())
    assert "欧阳娜娜" not in row and "娜娜" not in row
    assert document_by_number_and_name("CS2026-000001", "欧阳 娜娜")[1] == card
    assert document_by_number_and_name("cs2026－000001", "欧阳娜娜")[1] == card  # typed loosely
    assert document_by_number_and_name("CS2026-000001", "欧阳") is None
    assert document_by_number_and_name("CS2026-000001", "") is None
    assert document_by_number_and_name("CS2026-000002", "欧阳娜娜") is None


def test_status_valid_expired_revoked(card_model, branch_tree):
    today = timezone.localdate()
    card = _card(card_model, expires_on=today)
    assert card.verification_status() == VerificationStatus.VALID
    assert card.verification_status(today + datetime.timedelta(days=1)) == VerificationStatus.EXPIRED
    with pytest.raises(ValidationError):
        document_revoke(document=card, by=None, reason=" ")
    revoked = document_revoke(document=card, by=None, reason="考核作弊")
    assert revoked.verification_status() == VerificationStatus.REVOKED
    facts = revoked.verification_facts()
    assert (facts.kind, facts.holder, facts.level, facts.status) == ("测试会员证", "欧阳**", "初级", "revoked")
    with pytest.raises(ValidationError):
        document_revoke(document=revoked, by=None, reason="again")


def test_the_page_shows_the_key_facts_and_nothing_else(client, card_model, branch_tree):
    card = _card(card_model, expires_on=datetime.date(2029, 6, 30))
    response = client.get(f"/verify/{card.verification_code.lower()}/")
    assert response.status_code == 200
    page = response.content.decode()
    for fact in ("证书真实有效", "测试会员证", "CS2026-000001", "欧阳**", "初级", "2029年6月30日"):
        assert fact in page, fact
    for secret in ("欧阳娜娜", "13912345678", "5678", card.holder_name_digest):
        assert secret not in page
    assert response["X-Robots-Tag"] == "noindex" and "no-store" in response["Cache-Control"]
    assert verification_url(card) == f"http://127.0.0.1:8000/verify/{card.verification_code}/"

    card.expires_on = datetime.date(2020, 1, 1)
    card.save()
    assert "已过期" in client.get(f"/verify/{card.verification_code}/").content.decode()
    document_revoke(document=card, by=None, reason="考核作弊")
    page = client.get(f"/verify/{card.verification_code}/").content.decode()
    assert "证书已撤销" in page and "考核作弊" not in page  # the reason is for staff


def test_every_miss_is_one_answer_and_counts_against_the_limit(client, card_model, settings, caplog):
    settings.VERIFICATION_LIMIT = 5
    card = _card(card_model)
    pages = set()
    for guess in ("AAAAAAAAAA", "<script>" * 50, "2" * 17):
        response = client.get(f"/verify/{guess}/")
        assert response.status_code == 404
        pages.add(re.sub(r'value="[^"]*"', "", response.content.decode()))
    assert len(pages) == 1
    # the number + name form: a wrong name and an unknown number get the same message
    answers = set()
    for attempt in ({"number": "CS2026-000001", "name": "张三"}, {"number": "CS2026-999999", "name": "欧阳娜娜"}):
        response = client.post(VERIFY_LOOKUP, attempt)
        answers.add((response.status_code, response.content.decode().count("未找到匹配的证书")))
    assert answers == {(200, 1)}
    assert client.post(VERIFY_LOOKUP, {"number": "CS2026-000001", "name": "欧阳娜娜"}).status_code == 429
    # once over the limit, a right code gets the same refusal as a wrong one
    assert client.get(f"/verify/{card.verification_code}/").status_code == 429
    assert client.get("/verify/BBBBBBBBBB/").status_code == 429
    assert card.verification_code not in caplog.text


def test_number_and_name_finds_the_page(client, card_model):
    _card(card_model)
    assert client.get(VERIFY_LOOKUP).status_code == 200
    response = client.post(VERIFY_LOOKUP, {"number": "CS2026-000001", "name": "欧阳娜娜"})
    assert response.status_code == 200
    assert "证书真实有效" in response.content.decode()
    long = client.post(VERIFY_LOOKUP, {"number": "CS2026-000001", "name": "欧" * 10_000})
    assert long.status_code == 200 and "持证人姓名" in long.content.decode()


def test_only_verifiable_documents_can_be_registered():
    with isolate_apps("redcross"):

        class NotADocument(models.Model):
            class Meta:
                app_label = "redcross"

            def __str__(self) -> str:
                return "not a document"

    with pytest.raises(TypeError):
        register_verifiable(NotADocument)


@pytest.mark.django_db
def test_unknown_codes_never_reach_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert document_by_code("<script>") is None
        assert document_by_code("") is None
        assert document_by_code("A" * 17) is None


def test_codes_are_looked_up_in_one_place_only():
    """The one mechanism: no other module filters documents by their verification code."""
    offenders = []
    for app in ("redcross", "donations", "training", "relief", "registries", "membership", "volunteers"):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts or path.name == "verification.py":
                continue
            if "verification_code=" in path.read_text(encoding="utf-8").replace(" ", ""):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_a_verification_page_costs_a_probe_per_registered_kind_and_one_read(client, card_model, branch_tree):
    from redcross.verification import verifiable_kinds

    card = _card(card_model)
    client.get("/")  # the portal's facts cached, as on a warm site
    url = f"/verify/{card.verification_code}/"
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    # a probe of each kind's table up to the one holding the code, then that kind's public row
    assert len(queries) <= len(verifiable_kinds()) + 1
