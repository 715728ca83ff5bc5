import pytest
from cryptography.fernet import Fernet
from django.db import connection, models
from django.test.utils import isolate_apps

from redcross import encryption
from redcross.encryption import EncryptedTextField, blind_index, decrypt_text, encrypt_text, rotate_model

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


@pytest.fixture
def keys(settings):
    def use(*keys):
        settings.FIELD_ENCRYPTION_KEYS = list(keys)
        encryption.reset_key_cache()

    yield use
    encryption.reset_key_cache()


def test_round_trip_and_ciphertext_hides_plaintext(keys):
    keys(OLD_KEY)
    token = encrypt_text("110101199003074477")
    assert "110101199003074477" not in token
    assert token != encrypt_text("110101199003074477")  # random IV: equal values do not look equal
    assert decrypt_text(token) == "110101199003074477"


def test_wrong_key_cannot_decrypt(keys):
    keys(OLD_KEY)
    token = encrypt_text("秘密")
    keys(NEW_KEY)
    with pytest.raises(ValueError, match="FIELD_ENCRYPTION_KEYS"):
        decrypt_text(token)


def test_blind_index_is_stable_normalised_and_keyed(keys):
    keys(OLD_KEY)
    assert blind_index("11010119900307447x") == blind_index(" 11010119900307447X ")
    first = blind_index("11010119900307447X")
    keys(NEW_KEY)
    assert blind_index("11010119900307447X") != first


def test_bad_key_is_a_configuration_error(keys):
    from django.core.exceptions import ImproperlyConfigured

    keys("not-a-key")
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEYS"):
        encrypt_text("x")


@pytest.mark.django_db(transaction=True)
@isolate_apps("redcross")
def test_field_stores_ciphertext_and_rotation_moves_rows_to_the_new_key(keys):
    class Sensitive(models.Model):
        id_number = EncryptedTextField(blank=True)

        class Meta:
            app_label = "redcross"
            db_table = "test_sensitive"

        def __str__(self) -> str:
            return str(self.pk)

    with connection.schema_editor() as editor:
        editor.create_model(Sensitive)
    try:
        keys(OLD_KEY)
        Sensitive.objects.create(id_number="11010119900307447X")
        Sensitive.objects.create(id_number="")
        with connection.cursor() as cursor:
            cursor.execute("SELECT id_number FROM test_sensitive ORDER BY id")
            stored = [row[0] for row in cursor.fetchall()]
        assert stored[0].startswith("fernet:") and "1101" not in stored[0]
        assert stored[1] == ""
        assert Sensitive.objects.order_by("id").first().id_number == "11010119900307447X"

        # rotation: new key first, old key still there to decrypt
        keys(NEW_KEY, OLD_KEY)
        assert rotate_model(Sensitive) == 1
        keys(NEW_KEY)  # the old key can now be dropped
        assert Sensitive.objects.order_by("id").first().id_number == "11010119900307447X"
        with connection.cursor() as cursor:
            cursor.execute("SELECT id_number FROM test_sensitive ORDER BY id")
            rotated = [row[0] for row in cursor.fetchall()]
        assert rotated[0] != stored[0] and rotated[1] == ""

        from redcross.models import Branch

        assert rotate_model(Branch) is None  # nothing encrypted there
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(Sensitive)


# --- keyed_hash: a register's own keyed hash for matching ---------------------------------------

PERSON_KEY = "person-register-key-of-at-least-32-characters"
RELIEF_KEY = "relief-register-key-of-at-least-32-characters"


def test_keyed_hash_is_an_hmac_with_the_register_s_own_key(settings):
    import hashlib
    import hmac

    from redcross.encryption import keyed_hash

    settings.PERSON_MATCH_KEY, settings.RELIEF_MATCH_KEY = PERSON_KEY, RELIEF_KEY
    number = "11010519491231002X"
    assert keyed_hash(number, key_setting="PERSON_MATCH_KEY") == (
        hmac.new(PERSON_KEY.encode(), number.encode(), hashlib.sha256).hexdigest()
    )
    assert keyed_hash(number, key_setting="RELIEF_MATCH_KEY", kind="id") == (
        hmac.new(RELIEF_KEY.encode(), f"id:{number}".encode(), hashlib.sha256).hexdigest()
    )
    # two registers never share a hash of the same number; nor do two kinds of one register
    assert keyed_hash(number, key_setting="PERSON_MATCH_KEY") != keyed_hash(number, key_setting="RELIEF_MATCH_KEY")
    assert keyed_hash(number, key_setting="RELIEF_MATCH_KEY", kind="id") != keyed_hash(
        number, key_setting="RELIEF_MATCH_KEY", kind="phone"
    )
    # nor the encryption keys' blind index: rotating those must not break matching
    assert keyed_hash(number, key_setting="PERSON_MATCH_KEY") != blind_index(number)
    assert keyed_hash("张三", key_setting="PERSON_MATCH_KEY")  # any text hashes; no ASCII assumed


def test_keyed_hash_of_nothing_is_empty_and_a_missing_key_is_a_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    from redcross.encryption import keyed_hash

    settings.RELIEF_MATCH_KEY = ""
    assert keyed_hash("", key_setting="RELIEF_MATCH_KEY") == ""  # nothing to match, no key needed
    with pytest.raises(ImproperlyConfigured, match="RELIEF_MATCH_KEY"):
        keyed_hash("13912345678", key_setting="RELIEF_MATCH_KEY", kind="phone")
    with pytest.raises(ImproperlyConfigured, match="NO_SUCH_KEY"):
        keyed_hash("x", key_setting="NO_SUCH_KEY")
