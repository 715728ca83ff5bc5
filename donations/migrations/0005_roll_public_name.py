"""The honor roll's name search on PostgreSQL: each donation carries its donor's name where the roll
may show it in full (``public_name``), kept by triggers, with a trigram index and a walking index.

Why: searching through the donor join left PostgreSQL guessing how many donors a trigram match
finds, and its guesses were off by thousands either way: "zzz" walked the whole roll (1.7 s at a
million donations), "科技有限" sorted every gift of thousands of donors (120 ms), and an industry
word such as "医疗器械" took 30 ms. With the name on the donation itself, the roll's newest named
gifts are read from one index (the name included, no join per row) and a rare or unknown word goes
through the trigram index; expression statistics let the planner tell the two apart.

The column is the database's own: Django's model does not know it (nothing in Python writes it,
so no stale value can be saved back) and SQLite, the embedded default, searches through the join.
The triggers fire on every write of a donation and on the donor fields that decide what the roll
shows, so a withdrawn consent or a rename reaches every gift in the same transaction.

Filling the column rewrites every donation once: 2 min 20 s for a million here, the table locked.
"""

from django.db import migrations

# the donor's name where the roll shows it in full: the same rule as
# donations.selectors.honor_roll.searchable_donors() and the donor name indexes of 0003
PUBLIC_NAME = (
    "CASE WHEN (d.kind = 'organisation' AND d.public_display <> 'anonymous') OR "
    "(d.kind = 'person' AND d.public_display = 'full' AND d.full_name_consent_at IS NOT NULL) "
    "THEN d.name END"
)
NAMED = "status = 'confirmed' AND public_name IS NOT NULL"

POSTGRES_SQL = [
    "ALTER TABLE donations_donation ADD COLUMN IF NOT EXISTS public_name varchar(200)",
    f"""
    CREATE OR REPLACE FUNCTION donations_donation_public_name() RETURNS trigger AS $$
    BEGIN
        NEW.public_name := (SELECT {PUBLIC_NAME} FROM donations_donor d WHERE d.id = NEW.donor_id);
        RETURN NEW;
    END $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS donation_public_name ON donations_donation",
    """
    CREATE TRIGGER donation_public_name BEFORE INSERT OR UPDATE ON donations_donation
    FOR EACH ROW EXECUTE FUNCTION donations_donation_public_name()
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
    "DROP TRIGGER IF EXISTS donor_public_name ON donations_donor",
    """
    CREATE TRIGGER donor_public_name
    AFTER UPDATE OF name, kind, public_display, full_name_consent_at ON donations_donor
    FOR EACH ROW EXECUTE FUNCTION donations_donor_public_name()
    """,
    # the gifts already there (fires the donation trigger, which computes the same value)
    "UPDATE donations_donation SET public_name = NULL",
    # common words: the newest named gifts, the name read from the index itself
    f"CREATE INDEX IF NOT EXISTS donation_roll_named ON donations_donation "
    f"(received_at DESC, id DESC) INCLUDE (public_name) WHERE {NAMED}",
    # rare or unknown words: UPPER(public_name) LIKE UPPER('%...%'), what icontains sends
    f"CREATE INDEX IF NOT EXISTS donation_named_trgm ON donations_donation "
    f"USING gin (UPPER(public_name::text) gin_trgm_ops) WHERE {NAMED}",
    # how many gifts a word matches, for the choice between the two
    "CREATE STATISTICS IF NOT EXISTS donation_named_upper ON (UPPER(public_name::text)) FROM donations_donation",
    "ALTER STATISTICS donation_named_upper SET STATISTICS 1000",
    "ANALYZE donations_donation",
]
POSTGRES_REVERSE = [
    "DROP STATISTICS IF EXISTS donation_named_upper",
    "DROP INDEX IF EXISTS donation_named_trgm",
    "DROP INDEX IF EXISTS donation_roll_named",
    "DROP TRIGGER IF EXISTS donor_public_name ON donations_donor",
    "DROP FUNCTION IF EXISTS donations_donor_public_name()",
    "DROP TRIGGER IF EXISTS donation_public_name ON donations_donation",
    "DROP FUNCTION IF EXISTS donations_donation_public_name()",
    "ALTER TABLE donations_donation DROP COLUMN IF EXISTS public_name",
]


def _postgres_only(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("donations", "0004_bulletins")]

    operations = [migrations.RunPython(_postgres_only(POSTGRES_SQL), _postgres_only(POSTGRES_REVERSE))]
