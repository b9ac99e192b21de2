"""Encryption at rest of sensitive fields, and keyed blind indexes for looking them up exactly.

A sensitive column holds a token, never the value::

    enc1:<key id>:<base64url(nonce | AES-256-GCM ciphertext and tag)>

The key id is the start of the key's SHA-256, so a token names the key that opens it. Each token is bound
(as GCM's associated data) to its column, ``parties.customer.id_document_number``: a value copied into
another column, or another row's column of a different field, does not open. Empty values stay empty (an
empty column says only that nothing is recorded) and ``NULL`` stays ``NULL``.

An exact lookup (a phone number, an ID number) goes through a *blind index*: a column beside the token
holding ``HMAC-SHA256(index key, purpose | normalised value)``, cut to 128 bits, in hex, and indexed. The
index key is a separate key: knowing it does not decrypt anything, and the column reveals only which rows
share a value.

Keys (the *keyring*): ``KITH_ENCRYPTION_KEYS`` (base64 keys of 32 bytes, comma-separated, the first one
encrypts, all of them decrypt) and ``KITH_BLIND_INDEX_KEY`` (base64 of 32 bytes), else the instance file
``encryption_keys.json`` (mode 0600), made on first use. ``kith keys rotate`` puts a new key first and
re-encrypts every sensitive column; old keys stay in the ring to open the audit trail's entries, which are
never rewritten (their hashes chain them). Losing the keyring loses the data it encrypts: back it up apart
from the database (``kith keys status`` says where it is).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
import hmac
import json
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django import forms
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models
from django.db.models.lookups import Exact, IsNull

PREFIX = "enc1:"
KEYS_ENV = "KITH_ENCRYPTION_KEYS"
INDEX_KEY_ENV = "KITH_BLIND_INDEX_KEY"
KEYRING_FILE = "encryption_keys.json"
INDEX_LENGTH = 32  # hex characters: 128 bits of the HMAC


class DecryptionError(Exception):
    """A token that no key of the ring opens (wrong keyring, or a changed or moved value)."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"kith-field-key" + key).hexdigest()[:8]


@dataclass(frozen=True)
class Keyring:
    keys: tuple[bytes, ...]  # the first one encrypts
    index_key: bytes
    source: str  # where it was read: the environment or the file's path

    @functools.cached_property
    def primary_id(self) -> str:
        return key_id(self.keys[0])

    def by_id(self) -> dict[str, bytes]:
        return {key_id(k): k for k in self.keys}

    @functools.cached_property
    def ciphers(self) -> dict[str, AESGCM]:
        """One AES-GCM object per key id (made once: making one per value cost more than the encryption)."""
        return {kid: AESGCM(key) for kid, key in self.by_id().items()}


def keyring_path() -> Path:
    return Path(getattr(settings, "KITH_KEYRING_FILE", "") or Path(settings.INSTANCE_DIR) / KEYRING_FILE)


def _decode(value: str, what: str) -> bytes:
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise ImproperlyConfigured(f"{what} must hold base64 encodings of 32 bytes.")
    return key


def create_private_file(path: Path, text: str) -> None:
    """Write a new secret file with mode 0600, unless it exists (another process made it first). Written
    aside and linked into place, so a process reading it at the same moment never sees it half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.link(scratch, path)
    except FileExistsError:
        pass
    finally:
        scratch.unlink(missing_ok=True)


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def write_keyring_file(path: Path, keys: list[str], index_key: str) -> None:
    """Write the ring atomically with mode 0600 (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"keys": keys, "index_key": index_key}, handle, indent=1)
        handle.write("\n")
    os.replace(scratch, path)


def _read_keyring() -> Keyring:
    env_keys = os.environ.get(KEYS_ENV, "").strip()
    if env_keys:
        index = os.environ.get(INDEX_KEY_ENV, "").strip()
        if not index:
            raise ImproperlyConfigured(f"{KEYS_ENV} is set: set {INDEX_KEY_ENV} too.")
        keys = tuple(_decode(k, KEYS_ENV) for k in env_keys.split(",") if k.strip())
        return Keyring(keys, _decode(index, INDEX_KEY_ENV), "environment")
    path = keyring_path()
    if not path.exists():  # made whole and linked into place: a reader never sees half a file
        create_private_file(path, json.dumps({"keys": [new_key()], "index_key": new_key()}, indent=1) + "\n")
    try:
        data = json.loads(path.read_text())
        keys = tuple(_decode(k, str(path)) for k in data["keys"])
        index_key = _decode(data["index_key"], str(path))
    except (KeyError, TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"The keyring {path} cannot be read: {exc}") from exc
    if not keys:
        raise ImproperlyConfigured(f"The keyring {path} holds no key.")
    return Keyring(keys, index_key, str(path))


_lock = threading.Lock()
_ring: Keyring | None = None


def keyring(*, reload: bool = False) -> Keyring:
    global _ring
    ring = _ring
    if ring is None or reload:
        with _lock:
            ring = _ring = _read_keyring()
    return ring


def forget_keyring(**kwargs: Any) -> None:
    global _ring
    _ring = None


setting_changed.connect(forget_keyring, dispatch_uid="kith.core.crypto")


# --- values --------------------------------------------------------------------------------------------


def is_token(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def seal(text: str, label: str) -> str:
    """The token of ``text`` for the column ``label`` (``app.model.field``)."""
    ring = keyring()
    primary = ring.primary_id
    nonce = os.urandom(12)
    sealed = ring.ciphers[primary].encrypt(nonce, text.encode(), label.encode())
    return f"{PREFIX}{primary}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def token_key_id(token: str) -> str:
    return token[len(PREFIX) : len(PREFIX) + 8]


def open_token(token: str, label: str) -> str:
    """The text a token holds; ``DecryptionError`` when no key opens it."""
    kid, _sep, body = token[len(PREFIX) :].partition(":")
    cipher = keyring().ciphers.get(kid)
    if cipher is None:  # another process may have rotated the keys since this one read them
        cipher = keyring(reload=True).ciphers.get(kid)
    if cipher is None:
        raise DecryptionError(f"no key {kid} in the keyring for {label}")
    try:
        raw = base64.urlsafe_b64decode(body)
        return cipher.decrypt(raw[:12], raw[12:], label.encode()).decode()
    except (InvalidTag, ValueError, binascii.Error) as exc:
        raise DecryptionError(f"a value of {label} does not open with key {kid}") from exc


def reveal(value: Any, label: str) -> Any:
    """``value`` opened when it is a token (audit entries, raw rows), else as it is."""
    return open_token(value, label) if is_token(value) else value


UNREADABLE = "\u26a0 (cannot be decrypted)"


def reveal_changes(object_type: str, changes: Any) -> Any:
    """An audit entry's ``{field: [before, after]}`` with encrypted values opened (a copy; the stored
    entry is never touched). A value no key opens shows as ``UNREADABLE`` instead of failing the page."""
    if not isinstance(changes, dict) or not any(
        is_token(v) or (isinstance(v, dict) and any(is_token(x) for x in v.values()))
        for change in changes.values()
        if isinstance(change, list)
        for v in change
    ):
        return changes
    out: dict[str, Any] = {}
    for name, change in changes.items():
        if isinstance(change, list):
            change = [_reveal_side(value, f"{object_type}.{name}") for value in change]
        out[name] = change
    return out


def _reveal_side(value: Any, label: str, *, json_text: bool = False) -> Any:
    """One side of a change: a token, or an object whose values may be tokens of JSON text (the sealed
    keys of a ``SealedKeysJSONField``)."""
    if isinstance(value, dict):
        return {k: _reveal_side(v, f"{label}.{k}", json_text=True) for k, v in value.items()}
    if not is_token(value):
        return value
    try:
        opened = open_token(value, label)
    except DecryptionError:
        return UNREADABLE
    return json.loads(opened) if json_text else opened


def blind_index(purpose: str, value: str) -> str:
    """The keyed index of an already normalised ``value`` (empty for an empty value)."""
    if not value:
        return ""
    return hmac.digest(keyring().index_key, f"{purpose}\x00{value}".encode(), "sha256").hex()[:INDEX_LENGTH]


# --- model fields --------------------------------------------------------------------------------------


class _OnlyEmptyExact(Exact):
    """``field=""`` (nothing recorded) is the one equality an encrypted column can answer."""

    def __init__(self, lhs: Any, rhs: Any) -> None:
        if rhs not in ("", None):
            target = getattr(lhs, "target", None)
            raise FieldError(f"{getattr(target, 'label', 'this column')} is encrypted: use its blind index")
        super().__init__(lhs, rhs)


class EncryptedMixin:
    """A column that stores tokens and gives plain values; only ``isnull`` and ``=""`` filter on it."""

    name: str
    model: type[models.Model]

    @property
    def label(self) -> str:
        return f"{self.model._meta.label_lower}.{self.name}"

    def plain_to_text(self, value: Any) -> str:
        return str(value)

    def text_to_plain(self, text: str) -> Any:
        return text

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return _OnlyEmptyExact
        if lookup_name == "isnull":
            return IsNull
        raise FieldError(f"{self.label} is encrypted: it cannot be filtered by {lookup_name!r}")

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return None if value is None else self.to_python(value)

    def to_python(self, value: Any) -> Any:
        if is_token(value):
            return self.text_to_plain(open_token(value, self.label))
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        if value == "":
            return ""
        if is_token(value):
            return value
        return seal(self.plain_to_text(value), self.label)


class EncryptedTextField(EncryptedMixin, models.TextField):
    def formfield(self, form_class: Any = None, choices_form_class: Any = None, **kwargs: Any) -> Any:
        return forms.CharField(**{"required": not self.blank, "label": self.verbose_name, **kwargs})


class EncryptedDateField(EncryptedMixin, models.TextField):
    """A date, stored as the token of its ISO form; ``None`` when unknown."""

    def plain_to_text(self, value: Any) -> str:
        return (value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))).isoformat()

    def text_to_plain(self, text: str) -> dt.date | None:
        return dt.date.fromisoformat(text) if text else None

    def to_python(self, value: Any) -> Any:
        if value in (None, ""):
            return None
        if is_token(value):
            return self.text_to_plain(open_token(value, self.label))
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        return dt.date.fromisoformat(str(value))

    def get_prep_value(self, value: Any) -> Any:
        return None if value in (None, "") else super().get_prep_value(value)

    def formfield(self, form_class: Any = None, choices_form_class: Any = None, **kwargs: Any) -> Any:
        return forms.DateField(**{"required": not self.blank, "label": self.verbose_name, **kwargs})


class SealedKeysJSONField(models.JSONField):
    """A JSON object some of whose values are encrypted: those under the keys that ``sensitive`` (a dotted
    path to a function returning the set of keys, read at each write) names. Each such value is the token
    of its JSON text, bound to ``app.model.field.key``; reads open every token they meet, so a key that is
    no longer sensitive still reads until its values are written again (``reseal_key``).

    Filtering by a sealed key's value cannot match: callers refuse it (``is_sealed``)."""

    def __init__(self, *args: Any, sensitive: str = "", **kwargs: Any) -> None:
        self.sensitive = sensitive
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["sensitive"] = self.sensitive
        return name, path, args, kwargs

    def key_label(self, key: str) -> str:
        return f"{self.model._meta.label_lower}.{self.name}.{key}"

    def sealed_keys(self) -> frozenset[str]:
        return frozenset(_normaliser(self.sensitive)()) if self.sensitive else frozenset()

    def is_sealed(self, key: str) -> bool:
        return key in self.sealed_keys()

    def seal_values(self, value: Any, keys: frozenset[str] | None = None) -> Any:
        if not isinstance(value, dict) or not value:
            return value
        keys = self.sealed_keys() if keys is None else keys
        if not keys.intersection(value):
            return value
        return {
            k: seal(json.dumps(v, ensure_ascii=False), self.key_label(k))
            if k in keys and v not in (None, "", []) and not is_token(v)
            else v
            for k, v in value.items()
        }

    def open_values(self, value: Any) -> Any:
        if not isinstance(value, dict) or not any(is_token(v) for v in value.values()):
            return value
        return {
            k: json.loads(open_token(v, self.key_label(k))) if is_token(v) else v for k, v in value.items()
        }

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        value = super().from_db_value(value, expression, connection)
        key = getattr(expression, "key_name", None)
        if key is not None and is_token(value):  # one key read on its own (``custom_data__passport``)
            return json.loads(open_token(value, self.key_label(str(key))))
        return self.open_values(value)

    def get_prep_value(self, value: Any) -> Any:
        return super().get_prep_value(self.seal_values(value))


class BlindIndexField(models.CharField):
    """The keyed index of another field of the same row, computed on every save and bulk insert.

    ``source`` names the field, ``purpose`` separates indexes of different kinds of value, and
    ``normalise`` (a dotted path, so migrations can name it) turns a plain value into the indexed form."""

    def __init__(self, *args: Any, source: str = "", purpose: str = "", normalise: str = "", **kwargs: Any):
        self.source, self.purpose, self.normalise = source, purpose, normalise
        kwargs.setdefault("max_length", INDEX_LENGTH)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.update(source=self.source, purpose=self.purpose, normalise=self.normalise)
        for key, default in (
            ("max_length", INDEX_LENGTH),
            ("editable", False),
            ("blank", True),
            ("default", ""),
        ):
            if kwargs.get(key) == default:
                kwargs.pop(key)
        return name, path, args, kwargs

    def index_of(self, plain: Any) -> str:
        if plain in (None, ""):
            return ""
        text = str(_normaliser(self.normalise)(str(plain))) if self.normalise else str(plain)
        return blind_index(self.purpose, text)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = self.index_of(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


_normalisers: dict[str, Callable[..., Any]] = {}


def _normaliser(path: str) -> Callable[..., Any]:
    found = _normalisers.get(path)
    if found is None:
        from django.utils.module_loading import import_string

        found = _normalisers[path] = import_string(path)
    return found


# --- what is encrypted, for key rotation -----------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    model: type[models.Model]
    field: models.Field

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def label(self) -> str:
        return f"{self.model._meta.label_lower}.{self.field.name}"


def encrypted_columns() -> Iterator[Column]:
    from django.apps import apps

    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedMixin):
                yield Column(model, field)


def blind_indexes(model: type[models.Model]) -> list[BlindIndexField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]


def with_blind_indexes(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    """``values`` for a ``QuerySet.update`` (which runs no ``pre_save``), with the blind index of every
    source field among them added."""
    out = dict(values)
    for field in blind_indexes(model):
        if field.source in values:
            out[field.attname] = field.index_of(values[field.source])
    return out
