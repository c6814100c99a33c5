"""Every payload the service gives Temporal is encrypted (AES-256-GCM), so the server and its
database hold no personal data readable by anyone (docs/security.md). Payloads name the key that
encrypted them: the newest key encrypts, every configured key decrypts, so keys rotate without
a flag day; payloads written before encryption (no key id) pass through unchanged."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import os
import secrets
from collections.abc import Iterable
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter
from temporalio.converter import DefaultFailureConverterWithEncodedAttributes
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


class UnknownKeyError(ValueError):
    """A payload encrypted with a key this process is not given."""


def parse_key(entry: str) -> tuple[str, bytes]:
    """`<key id>:<32 bytes, base64>`, as in `ACTIVATION_PAYLOAD_KEYS`."""
    key_id, _, encoded = entry.strip().partition(":")
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        key = b""
    if not key_id or len(key) != 32:
        raise ValueError(f"payload key {key_id or '?'!r} must be '<id>:<32 bytes in base64>'")
    return key_id, key


def new_key_entry(key_id: str) -> str:
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


class EncryptionCodec(PayloadCodec):
    def __init__(self, entries: Sequence[str]) -> None:
        """`entries`: the keys, newest (the one that encrypts) first."""
        keys = [parse_key(entry) for entry in entries]
        if not keys:
            raise ValueError("the payload codec needs at least one key")
        self._encrypting = keys[0][0]
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decrypt(payload) for payload in payloads]

    def _encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        key_id = self._encrypting
        # The key id is authenticated too: a payload cannot be passed off as another key's.
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: key_id.encode()}, data=nonce + sealed
        )

    def _decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before encryption: flows in flight and old histories
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownKeyError(
                f"a payload is encrypted with key {key_id!r}, which is not among "
                "ACTIVATION_PAYLOAD_KEYS: add it (keys are only ever added, then retired)"
            )
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, key_id.encode())
        except InvalidTag:
            raise ValueError(f"a payload of key {key_id!r} failed its integrity check") from None
        return Payload.FromString(plain)


def data_converter(keys: Iterable[str]) -> DataConverter:
    """The converter of every client and worker: payloads encrypted, and failure messages and
    stack traces moved into the (encrypted) encoded attributes, since they may quote input."""
    entries = list(keys)
    if not entries:
        return DataConverter.default
    return dataclasses.replace(
        DataConverter.default,
        payload_codec=EncryptionCodec(entries),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def ensure_key_file(path: Path) -> list[str]:
    """For `activation dev`: the keys kept in a file under the data folder, made on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(new_key_entry("dev-1") + "\n")
        path.chmod(0o600)
    return [line for line in path.read_text().split() if line]
