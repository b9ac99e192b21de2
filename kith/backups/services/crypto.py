"""Encrypted backup files: AES-256-GCM over fixed-size chunks, each with its own nonce.

File layout (all integers big-endian)::

    header  = MAGIC (8 bytes) | version (1) | chunk size (4) | key id (8) | file id (16)
    chunk   = nonce (12) | ciphertext length (4) | ciphertext with its 16-byte tag

Each chunk is authenticated together with the header, its index and a "last chunk" flag, so a changed
byte, a swapped, dropped or appended chunk, a cut-off file or a header edit all fail decryption.
The key comes from ``KITH_BACKUP_KEY`` (base64 of 32 bytes) or from ``<instance>/backup_key``, made
once with mode 0600; the key id (start of its SHA-256) tells a wrong key from a damaged file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import struct
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils.translation import gettext as _

from kith.backups.errors import BackupError
from kith.core.crypto import create_private_file

MAGIC = b"KITHBAK\x00"
VERSION = 1
CHUNK_SIZE = 1024 * 1024
_HEADER = struct.Struct(">8sBI8s16s")
_CHUNK_HEAD = struct.Struct(">12sI")
_TAG_SIZE = 16
KEY_ENV = "KITH_BACKUP_KEY"


def key_file() -> Path:
    return Path(settings.INSTANCE_DIR) / "backup_key"


def load_key(*, create: bool = False) -> bytes:
    """The backup key: from the environment, else the instance key file (made when ``create``)."""
    value = os.environ.get(KEY_ENV, "").strip()
    if value:
        try:
            key = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != 32:
            raise BackupError(_("%(env)s must be the base64 encoding of 32 bytes.") % {"env": KEY_ENV})
        return key
    path = key_file()
    if not path.exists():
        if not create:
            raise BackupError(
                _("No backup key: set %(env)s or put the key file at %(path)s.")
                % {"env": KEY_ENV, "path": path}
            )
        create_private_file(path, base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    key = base64.b64decode(path.read_text().strip())
    if len(key) != 32:
        raise BackupError(_("The backup key file %(path)s is damaged.") % {"path": path})
    return key


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"kith-backup-key-id" + key).digest()[:8]


def is_encrypted(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC


def _aad(header: bytes, index: int, last: bool) -> bytes:
    return header + struct.pack(">QB", index, 1 if last else 0)


def encrypt_stream(source: BinaryIO, target: BinaryIO, key: bytes, *, chunk_size: int = CHUNK_SIZE) -> None:
    aead = AESGCM(key)
    header = _HEADER.pack(MAGIC, VERSION, chunk_size, key_id(key), secrets.token_bytes(16))
    target.write(header)
    index = 0
    chunk = source.read(chunk_size)
    while True:
        following = source.read(chunk_size)
        last = not following
        nonce = secrets.token_bytes(12)
        sealed = aead.encrypt(nonce, chunk, _aad(header, index, last))
        target.write(_CHUNK_HEAD.pack(nonce, len(sealed)))
        target.write(sealed)
        if last:
            return
        chunk = following
        index += 1


def decrypt_stream(source: BinaryIO, target: BinaryIO, key: bytes) -> None:
    """Decrypt ``source`` into ``target``; any change to the file raises ``BackupError``."""
    header = source.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise BackupError(_("This is not an encrypted Kith backup (the header is cut off)."))
    magic, version, chunk_size, file_key_id, _file_id = _HEADER.unpack(header)
    if magic != MAGIC:
        raise BackupError(_("This is not an encrypted Kith backup."))
    if version != VERSION:
        raise BackupError(
            _("This backup uses encryption format %(version)s, which this Kith version cannot read.")
            % {"version": version}
        )
    if file_key_id != key_id(key):
        raise BackupError(_("This backup was encrypted with a different key."))
    aead = AESGCM(key)
    index = 0
    head = source.read(_CHUNK_HEAD.size)
    while True:
        if len(head) < _CHUNK_HEAD.size:
            raise BackupError(
                _("The encrypted backup is cut off (part %(index)s is missing).") % {"index": index}
            )
        nonce, length = _CHUNK_HEAD.unpack(head)
        if length > chunk_size + _TAG_SIZE:
            raise BackupError(_("The encrypted backup is damaged (part %(index)s).") % {"index": index})
        sealed = source.read(length)
        # read ahead: the chunk is the last one exactly when nothing follows it
        head = source.read(_CHUNK_HEAD.size)
        last = not head
        try:
            plain = aead.decrypt(nonce, sealed, _aad(header, index, last))
        except InvalidTag:
            raise BackupError(
                _(
                    "The encrypted backup was changed or damaged (part %(index)s fails its integrity check);"
                    " it cannot be restored."
                )
                % {"index": index}
            ) from None
        target.write(plain)
        if last:
            return
        index += 1


def encrypt_file(source: Path, target: Path, key: bytes) -> None:
    with source.open("rb") as plain, target.open("wb") as sealed:
        encrypt_stream(plain, sealed, key)


def decrypt_file(source: Path, target: Path, key: bytes) -> None:
    with source.open("rb") as sealed, target.open("wb") as plain:
        decrypt_stream(sealed, plain, key)
