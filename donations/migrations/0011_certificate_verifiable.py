"""The donation certificate becomes a verifiable document (redcross.verification): its number is the
donation's serial, its holder the donor (masked as the donor chose, and a keyed hash of the name for
number + name lookups), its issue date that of issued_at. Codes are kept: printed QR codes still work."""

import django.utils.timezone
from django.db import migrations, models

import redcross.verification


def fill_verifiable_facts(apps, schema_editor):
    from donations.models.intake import donor_public_name

    Certificate = apps.get_model("donations", "Certificate")
    for certificate in Certificate.objects.select_related("donation__donor").iterator(chunk_size=500):
        donor = certificate.donation.donor
        shown = donor_public_name(donor.kind, donor.name, donor.public_display, donor.full_name_consent_at)
        certificate.number = certificate.donation.serial
        certificate.issued_on = django.utils.timezone.localdate(certificate.issued_at)
        certificate.holder_display_name = shown[:60]
        certificate.holder_name_digest = redcross.verification.holder_name_digest(donor.name)
        certificate.save(update_fields=["number", "issued_on", "holder_display_name", "holder_name_digest"])


def _fields(unique_number: bool):
    return [
        ("number", models.CharField(default="", max_length=40, verbose_name="编号", db_index=not unique_number)),
        ("holder_display_name", models.CharField(default="", editable=False, max_length=60, verbose_name="持证人（公开显示）")),
        ("holder_name_digest", models.CharField(default="", editable=False, max_length=64, verbose_name="持证人姓名摘要")),
        ("level", models.CharField(blank=True, default="", max_length=40, verbose_name="等级")),
        ("issued_on", models.DateField(default=django.utils.timezone.localdate, verbose_name="颁发日期")),
        ("expires_on", models.DateField(blank=True, null=True, verbose_name="有效期至")),
        ("revoked_at", models.DateTimeField(blank=True, editable=False, null=True, verbose_name="撤销时间")),
        ("revoked_reason", models.CharField(blank=True, default="", editable=False, max_length=200, verbose_name="撤销原因")),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0010_public_name_rule"),
    ]

    operations = [
        *[
            migrations.AddField(
                model_name="certificate", name=name, field=field, preserve_default=name == "issued_on"
            )
            for name, field in _fields(unique_number=False)
            if name != "number"
        ],
        migrations.AddField(
            model_name="certificate",
            name="number",
            field=models.CharField(default="", max_length=40, verbose_name="编号"),
            preserve_default=False,
        ),
        *[
            migrations.AddField(
                model_name="historicalcertificate", name=name, field=field, preserve_default=name == "issued_on"
            )
            for name, field in _fields(unique_number=False)
        ],
        migrations.RunPython(fill_verifiable_facts, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="certificate",
            name="number",
            field=models.CharField(max_length=40, unique=True, verbose_name="编号"),
        ),
        migrations.AlterField(
            model_name="certificate",
            name="verification_code",
            field=models.CharField(
                default=redcross.verification.new_verification_code,
                editable=False,
                max_length=16,
                unique=True,
                verbose_name="验证码",
            ),
        ),
        migrations.AlterField(
            model_name="historicalcertificate",
            name="verification_code",
            field=models.CharField(
                db_index=True,
                default=redcross.verification.new_verification_code,
                editable=False,
                max_length=16,
                verbose_name="验证码",
            ),
        ),
    ]
