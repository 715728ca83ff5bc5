"""``Donation.public_name`` (the donor's name where public pages show it in full, for the honor
roll's name search) becomes a field the model declares, kept by triggers whose SQL is generated
from the one rule, ``donations.models.intake.shows_full_name``.

PostgreSQL: the column and its triggers come from 0005; this replaces the two trigger functions
with ones built on ``PUBLIC_NAME`` (the same rule as 0005's hand-written CASE, so no gift's value
changes and nothing is rewritten). SQLite: the column is added, with triggers that keep it the
same way, and filled.

``PUBLIC_NAME`` is ``full_name_sql("d")`` as it stood when this migration was written: a migration
must not change once applied. ``tests/disclosure/test_public_name_rule.py`` fails when the rule
changes and the text here no longer matches: then a new migration replaces the functions and
refills the column.
"""

from django.db import migrations, models

PUBLIC_NAME = (
    "CASE WHEN (d.kind = 'person' AND d.public_display = 'full' AND d.full_name_consent_at IS NOT NULL) "
    "OR (d.kind = 'organisation' AND d.public_display IN ('full', 'masked')) THEN d.name END"
)

POSTGRES_SQL = [
    f"""
    CREATE OR REPLACE FUNCTION donations_donation_public_name() RETURNS trigger AS $$
    BEGIN
        NEW.public_name := (SELECT {PUBLIC_NAME} FROM donations_donor d WHERE d.id = NEW.donor_id);
        RETURN NEW;
    END $$ LANGUAGE plpgsql
    """,
    f"""
    CREATE OR REPLACE FUNCTION donations_donor_public_name() RETURNS trigger AS $$
    DECLARE
        shown varchar(200);
    BEGIN
        SELECT {PUBLIC_NAME} INTO shown FROM (SELECT NEW.*) d;
        UPDATE donations_donation SET public_name = shown
        WHERE donor_id = NEW.id AND public_name IS DISTINCT FROM shown;
        RETURN NULL;
    END $$ LANGUAGE plpgsql
    """,
]

# SQLite has no BEFORE trigger that sets NEW: an AFTER trigger writes the row again (SQLite does
# not fire a trigger from its own statement unless recursive_triggers is on)
_DONATION_NAME = f"(SELECT {PUBLIC_NAME} FROM donations_donor d WHERE d.id = NEW.donor_id)"
SQLITE_SQL = [
    "ALTER TABLE donations_donation ADD COLUMN public_name varchar(200) NULL",
    f"""
    CREATE TRIGGER donation_public_name_insert AFTER INSERT ON donations_donation
    BEGIN UPDATE donations_donation SET public_name = {_DONATION_NAME} WHERE id = NEW.id; END
    """,
    f"""
    CREATE TRIGGER donation_public_name_update AFTER UPDATE ON donations_donation
    BEGIN UPDATE donations_donation SET public_name = {_DONATION_NAME} WHERE id = NEW.id; END
    """,
    f"""
    CREATE TRIGGER donor_public_name AFTER UPDATE OF name, kind, public_display, full_name_consent_at
    ON donations_donor
    BEGIN
        UPDATE donations_donation SET public_name = (SELECT {PUBLIC_NAME} FROM (SELECT NEW.name AS name,
            NEW.kind AS kind, NEW.public_display AS public_display,
            NEW.full_name_consent_at AS full_name_consent_at) d)
        WHERE donor_id = NEW.id;
    END
    """,
    f"UPDATE donations_donation SET public_name = (SELECT {PUBLIC_NAME} FROM donations_donor d "
    "WHERE d.id = donations_donation.donor_id)",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS donor_public_name",
    "DROP TRIGGER IF EXISTS donation_public_name_update",
    "DROP TRIGGER IF EXISTS donation_public_name_insert",
    "ALTER TABLE donations_donation DROP COLUMN public_name",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in {"postgresql": POSTGRES_SQL, "sqlite": SQLITE_SQL}.get(vendor, []):
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    # PostgreSQL keeps the functions: they compute what 0005's did
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_REVERSE:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("donations", "0009_donor_created_by_import")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forward, backward)],
            state_operations=[
                migrations.AddField(
                    model_name="donation",
                    name="public_name",
                    field=models.CharField(editable=False, max_length=200, null=True, verbose_name="公开全名"),
                ),
            ],
        ),
    ]
