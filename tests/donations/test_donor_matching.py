"""Donor matching: one rule (``donations/services/donors.py``) for the admin's donor form,
``donor_register`` and both importers, and an explicit mark on donors an import created.

The same input must lead to the same donor whichever way it comes in: the admin form and
``donor_register`` refuse it naming that donor, the template and statement importers attach
the gift to it, and ``donor_match`` names it.
"""

from __future__ import annotations

import importlib
from datetime import datetime

import pytest
from django.apps import apps

from donations.forms.intake import DonorAdminForm
from donations.models import Donation, Donor, DonorKind
from donations.services.donors import DuplicateDonor, donor_match, donor_register
from tests.donations.factories import OrganisationDonorFactory, PersonDonorFactory
from tests.donations.test_imports import BANK_HEADER, bank_row, credit_code, csv_bytes, filled_template, run

pytestmark = pytest.mark.django_db

WHEN = datetime(2020, 2, 1, 10, 0)


def admin_form_refuses(city, **fields) -> str:
    data = {"branch": city.pk, "public_display": "masked", "wants_receipt": "on", **fields}
    form = DonorAdminForm(data=data)
    assert not form.is_valid()
    return " ".join(form.non_field_errors())


def template_donor(city, clerk, campaign, kind, name, code="", phone="", tid="T1") -> Donor:
    row = [kind, name, code, phone, "银行转账", tid, WHEN, "10.00", "", "", "", ""]
    report = run(filled_template(cash_rows=[row]), "template", clerk, city, campaign)
    assert report.rejected == [] and report.imported == 1
    return Donation.objects.get(channel="bank", channel_transaction_id=tid).donor


def statement_donor(city, clerk, campaign, name, serial="B1") -> Donor:
    """The donor a bank statement's payer becomes (statements give a payer's name, nothing more)."""
    report = run(csv_bytes([BANK_HEADER, bank_row(serial, name=name, credit="10.00")], "utf-8"), "bank", clerk, city)
    assert report.rejected == [] and report.imported == 1
    return Donation.objects.get(channel="bank", channel_transaction_id=serial).donor


def test_a_credit_code_is_one_donor_everywhere(city, clerk, campaign):
    code = credit_code()
    registered = OrganisationDonorFactory(branch=city, name="澜州示例科技有限公司", credit_code=code)
    same = {"kind": DonorKind.ORGANISATION, "name": "澜州示例科技股份有限公司", "credit_code": code}

    assert f"#{registered.pk}" in admin_form_refuses(city, **same)
    with pytest.raises(DuplicateDonor) as refused:
        donor_register(by=clerk, branch=city, allow_duplicate=True, **same)  # a code is refused even then
    assert refused.value.candidates == [registered]
    assert donor_match(branch=city, **same) == registered
    assert template_donor(city, clerk, campaign, "单位", same["name"], code=code) == registered


def test_a_name_and_phone_is_one_donor_everywhere(city, clerk, campaign):
    registered = PersonDonorFactory(branch=city, name="张三", phone="13800000000")
    same = {"kind": DonorKind.PERSON, "name": "张三", "phone": "138 0000 0000"}

    assert f"#{registered.pk}" in admin_form_refuses(city, **same)
    with pytest.raises(DuplicateDonor) as refused:
        donor_register(by=clerk, branch=city, **same)
    assert refused.value.candidates == [registered]
    assert donor_match(branch=city, **same) == registered
    assert template_donor(city, clerk, campaign, "个人", "张三", phone="13800000000") == registered


def test_a_name_alone_finds_only_a_donor_an_import_created(city, clerk, campaign):
    by_hand = PersonDonorFactory(branch=city, name="王五", phone="")
    # a name alone is no key for a registration: the admin form and donor_register accept it
    form = DonorAdminForm(
        data={"branch": city.pk, "kind": "person", "name": "王五", "public_display": "masked", "wants_receipt": "on"}
    )
    assert form.is_valid(), form.errors
    assert donor_match(branch=city, kind=DonorKind.PERSON, name="王五") is None  # not the hand-registered one

    from_statement = statement_donor(city, clerk, campaign, "王五")
    assert from_statement != by_hand
    assert from_statement.created_by_import and not by_hand.created_by_import
    assert from_statement.note.startswith("对账单导入自动创建")  # for the staff: which statement made it
    # the other importer, and the rule itself, find that same donor by the name alone
    assert template_donor(city, clerk, campaign, "个人", "王五") == from_statement
    assert donor_match(branch=city, kind=DonorKind.PERSON, name="王五") == from_statement
    assert statement_donor(city, clerk, campaign, "王五", serial="B2") == from_statement
    # what marks it is the field: a staff edit of the note changes nothing
    Donor.objects.filter(pk=from_statement.pk).update(note="已电话核实")
    assert statement_donor(city, clerk, campaign, "王五", serial="B3") == from_statement
    assert Donor.objects.filter(name="王五").count() == 2


def test_a_template_donor_without_phone_is_found_by_the_statement_importer(city, clerk, campaign):
    from_template = template_donor(city, clerk, campaign, "个人", "赵六")
    assert from_template.created_by_import
    assert statement_donor(city, clerk, campaign, "赵六") == from_template


def test_the_migration_marks_donors_whose_note_says_an_import_created_them(city):
    migration = importlib.import_module("donations.migrations.0009_donor_created_by_import")
    imported = PersonDonorFactory(branch=city, phone="", note="对账单导入自动创建（微信支付）")
    by_hand = PersonDonorFactory(branch=city, phone="", note="现场登记，对账单导入自动创建的说明见下")
    migration.mark_imported_donors(apps, None)
    imported.refresh_from_db()
    by_hand.refresh_from_db()
    assert imported.created_by_import and imported.note == "对账单导入自动创建（微信支付）"
    assert not by_hand.created_by_import
