"""Migration 0011: certificates issued before the verification kernel get their number (the
donation's serial), their masked holder and issue date, and keep their printed codes."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from redcross.verification import holder_name_digest

BEFORE = [("donations", "0010_public_name_rule")]
AFTER = [("donations", "0011_certificate_verifiable")]


@pytest.mark.django_db(transaction=True)
def test_existing_certificates_become_verifiable_documents(branch_tree):
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    try:
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        Donor, Campaign = old.get_model("donations", "Donor"), old.get_model("donations", "Campaign")
        Donation, Certificate = old.get_model("donations", "Donation"), old.get_model("donations", "Certificate")
        User = old.get_model("redcross", "User")
        staff = User.objects.create(username="migrator")
        city_id = branch_tree["city"].pk
        campaign = Campaign.objects.create(branch_id=city_id, name="旧活动", slug="old")
        codes = {}
        for serial, name, display in (("CS2020-000001", "张三", "masked"), ("CS2020-000002", "李四", "anonymous")):
            donor = Donor.objects.create(branch_id=city_id, kind="person", name=name, public_display=display,
                                         created_by=staff)  # fmt: skip
            donation = Donation.objects.create(
                branch_id=city_id, donor=donor, campaign=campaign, serial=serial, kind="cash", amount="10.00",
                channel="bank", received_at=timezone.now(), registered_by=staff,
            )  # fmt: skip
            codes[serial] = Certificate.objects.create(donation=donation, verification_code=f"ABCDEFGH{serial[-1]}2")
        MigrationExecutor(connection).migrate(AFTER)
        new = MigrationExecutor(connection).loader.project_state(AFTER).apps.get_model("donations", "Certificate")
        rows = {row.number: row for row in new.objects.all()}
        assert set(rows) == {"CS2020-000001", "CS2020-000002"}
        assert rows["CS2020-000001"].holder_display_name == "张*"
        assert rows["CS2020-000002"].holder_display_name == "爱心人士"
        assert rows["CS2020-000001"].holder_name_digest == holder_name_digest("张三")
        assert rows["CS2020-000001"].verification_code == codes["CS2020-000001"].verification_code
        assert rows["CS2020-000001"].issued_on == timezone.localdate(codes["CS2020-000001"].issued_at)
    finally:
        MigrationExecutor(connection).migrate(leaves)
