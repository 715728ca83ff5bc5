"""Two-person confirmation (双人双签), the kernel's piece on its own: the abstract model and the
one function that refuses the registrar's own confirmation and stamps the second signature."""

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.utils import timezone

from redcross.models import User
from redcross.signoff import DualSignatureRequired, TwoPersonConfirmed, second_signature_check, second_signature_sign

ROOT = Path(__file__).resolve().parents[2]


def _confirmed_models() -> list[type[TwoPersonConfirmed]]:
    return [model for model in apps.get_models() if issubclass(model, TwoPersonConfirmed)]


def test_the_registrar_is_refused_and_nothing_is_stamped():
    from donations.models import Donation

    donation = Donation(serial="CS2026000001", registered_by_id=7)
    with pytest.raises(DualSignatureRequired, match="双人双签：捐赠 CS2026000001 由您登记"):
        second_signature_sign(donation, by=User(pk=7))
    assert (donation.confirmed_by_id, donation.confirmed_at) == (None, None)


def test_a_second_person_signs_and_gets_the_fields_to_save():
    from donations.models import Donation

    donation = Donation(serial="CS2026000002", registered_by_id=7)
    reviewer = User(pk=8)
    before = timezone.now()
    fields = second_signature_sign(donation, by=reviewer)
    assert fields == ["confirmed_by", "confirmed_at"]
    assert donation.confirmed_by == reviewer
    assert before <= donation.confirmed_at <= timezone.now()


def test_a_model_with_its_own_registrar_column_is_checked_against_it():
    from donations.models import StockMovement

    # a stock movement keeps its keepers' columns: recorded_by (经办保管员), not registered_by
    assert StockMovement.registrar_field == "recorded_by"
    assert "registered_by" not in {field.name for field in StockMovement._meta.get_fields()}
    movement = StockMovement(serial="CSCK2026-000001", recorded_by_id=3)
    with pytest.raises(DualSignatureRequired, match="双人签字：出入库记录 CSCK2026-000001 由您登记"):
        second_signature_check(movement, by=User(pk=3))
    second_signature_check(movement, by=User(pk=4))  # another keeper: no refusal


def test_every_two_person_model_names_its_registrar_and_words_its_refusal():
    models = _confirmed_models()
    assert {model._meta.label for model in models} >= {
        "donations.Donation",
        "donations.Allocation",
        "donations.StockMovement",
    }
    for model in models:
        registrar = model._meta.get_field(model.registrar_field)
        assert registrar.related_model._meta.label == settings.AUTH_USER_MODEL, model
        assert "%(serial)s" in str(model.own_confirmation_message), model
        for name in ("confirmed_by", "confirmed_at"):
            assert model._meta.get_field(name).null, (model, name)  # unconfirmed until the second person signs


def test_no_second_copy_of_the_registrar_comparison_in_the_project():
    """A confirmation that compares the registrar itself, or stamps confirmed_by by hand, has
    drifted from the one rule: every one goes through ``second_signature_sign``."""
    own_check = re.compile(r"(registered|recorded|created)_by(_id)?\s*(==|!=|is)\s*by\b")
    own_stamp = re.compile(r"\.confirmed_by\s*=\s*by\b")
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in {".venv", "tests", "var", "bench"} or "migrations" in relative.parts:
            continue
        if relative == Path("redcross/signoff.py"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if own_check.search(line) or own_stamp.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []
