"""Encryption of sensitive personal data at rest (PIPL arts. 28-29).

``EncryptedTextField`` stores Fernet tokens (AES-128-CBC + HMAC-SHA256). Keys
come from ``FIELD_ENCRYPTION_KEYS``: the first key encrypts, every key
decrypts, so a key is rotated by putting a new one first, running
``python manage.py rotate_encryption_keys`` and then dropping the old one.
Encrypted values cannot be searched; ``blind_index`` gives a keyed hash for
exact-match lookups (e.g. "is this ID number already registered?").

A register of humans that matches records (persons, relief beneficiaries, later the
three-donations registrants) uses ``keyed_hash`` instead, with a key of its own named by a
setting (``PERSON_MATCH_KEY``, ``RELIEF_MATCH_KEY``): not the encryption keys, so rotating those
never breaks matching, and one key per register, so two registers can never be joined on it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.translation import gettext_lazy as _

_TOKEN_PREFIX = "fernet:"  # noqa: S105  (a marker, not a secret)


@cache
def _keys() -> tuple[bytes, ...]:
    configured = [key.strip() for key in settings.FIELD_ENCRYPTION_KEYS if key.strip()]
    if not configured:
        if not settings.DEBUG:
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is not set")
        # local development only: a key derived from the development SECRET_KEY
        configured = [base64.urlsafe_b64encode(hashlib.sha256(settings.SECRET_KEY.encode()).digest()).decode()]
    keys = tuple(key.encode() for key in configured)
    for key in keys:
        try:
            Fernet(key)
        except ValueError as exc:
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEYS: each key must be 32 url-safe base64-encoded bytes"
            ) from exc
    return keys


@cache
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in _keys()])


def reset_key_cache() -> None:
    """For tests and the rotation command, after the settings changed."""
    _keys.cache_clear()
    _fernet.cache_clear()


def encrypt_text(plaintext: str) -> str:
    return _TOKEN_PREFIX + _fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt_text(stored: str) -> str:
    if not stored.startswith(_TOKEN_PREFIX):
        raise ValueError("not an encrypted value")
    try:
        return _fernet().decrypt(stored[len(_TOKEN_PREFIX) :].encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: no configured key matches (FIELD_ENCRYPTION_KEYS)") from exc


def rotate_token(stored: str) -> str:
    """Re-encrypt a stored value with the first (newest) key."""
    return _TOKEN_PREFIX + _fernet().rotate(stored[len(_TOKEN_PREFIX) :].encode("ascii")).decode("ascii")


def blind_index(value: str) -> str:
    """A keyed SHA-256 of a normalised value, for equality lookups without decrypting.

    Keyed with the newest encryption key, so rotation recomputes it too.
    """
    key = hashlib.sha256(b"blind-index:" + _keys()[0]).digest()
    return hmac.new(key, value.strip().upper().encode("utf-8"), hashlib.sha256).hexdigest()


def keyed_hash(value: str, *, key_setting: str, kind: str = "") -> str:
    """HMAC-SHA256 (hex) of ``value``, normalised by the caller, keyed with the register's own key,
    ``settings.<key_setting>``; "" for no value. ``kind`` separates the keys of one register
    (``id:…``, ``phone:…``) so that two kinds of value never give the same hash."""
    if not value:
        return ""
    key = getattr(settings, key_setting, "")
    if not key:
        raise ImproperlyConfigured(f"{key_setting} is not set")
    message = f"{kind}:{value}" if kind else value
    return hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


class EncryptedToken(str):
    """A value that is already ciphertext (key rotation writes these back as they are)."""


class EncryptedTextField(models.TextField):
    """A text column holding a Fernet token; Python code sees the plaintext.

    Empty strings are stored as empty strings (nothing to protect), so ``blank``
    works as usual. Lookups other than ``isnull`` and ``exact=""`` are
    meaningless on ciphertext; use a ``blind_index`` column instead.
    """

    description = _("加密文本")

    def __init__(self, *args, blind_index_field: str | None = None, **kwargs) -> None:
        # the sibling column holding this value's blind_index; key rotation recomputes it
        self.blind_index_field = blind_index_field
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.blind_index_field:
            kwargs["blind_index_field"] = self.blind_index_field
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt_text(value)

    def to_python(self, value):
        if value is None or not isinstance(value, str) or not value.startswith(_TOKEN_PREFIX):
            return value
        return decrypt_text(value)

    def get_prep_value(self, value):
        if isinstance(value, EncryptedToken):
            return str(value)
        if value is None or value == "":
            return value
        return encrypt_text(str(value))


def rotate_model(model) -> int | None:
    """Re-encrypt ``model``'s encrypted columns with the newest key; None if it has none.

    Rows are rewritten with ``update()``, not ``save()``: rotation is not a change
    of the person's data, so it leaves no history row and fires no signal.
    """
    from django.db import transaction
    from django.db.models.functions import Cast

    fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
    if not fields:
        return None
    names = [f.attname for f in fields]
    indexed = {f.attname: f.blind_index_field for f in fields if f.blind_index_field}
    manager = model._base_manager
    rows = 0
    for pk in manager.values_list("pk", flat=True).iterator(chunk_size=500):
        with transaction.atomic():
            # the ciphertext as stored (a plain text cast skips the field's decryption)
            raw = {f"raw_{name}": Cast(name, models.TextField()) for name in names}
            stored = manager.filter(pk=pk).select_for_update().annotate(**raw).values_list(*raw).get()
            update = {
                name: EncryptedToken(rotate_token(token)) for name, token in zip(names, stored, strict=True) if token
            }
            for name, index_field in indexed.items():
                if name in update:  # blind indexes are keyed with the newest key too
                    update[index_field] = blind_index(decrypt_text(str(update[name])))
            if update:
                manager.filter(pk=pk).update(**update)
                rows += 1
    return rows
