"""Data kept at rest sealed (AES-256-GCM) with keys the database does not hold: a copy of the
database, its write-ahead log or its dead rows show nothing readable (docs/security.md).

The keys are derived from the payload keys (`ACTIVATION_PAYLOAD_KEYS`), one per purpose, so
they rotate with them: the newest seals, every configured one opens.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.payload_codec import NONCE_BYTES
from core.payload_codec import parse_key

# Sealed data starts with this; anything else was stored before sealing, and is read as it is.
MARK = b"AP-SEALED-1\0"


def derived_key(key: bytes, purpose: str) -> bytes:
    """The key of one purpose: knowing it tells nothing of the payload key or of the others."""
    info = f"activation-pipelines/{purpose}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)


class Sealer:
    def __init__(self, entries: Sequence[str], purpose: str) -> None:
        """`entries`: the payload keys, newest first; `purpose`: what this sealer is for."""
        keys = [parse_key(entry) for entry in entries]
        if not keys:
            raise ValueError(
                f"sealing the {purpose} needs a key: set ACTIVATION_PAYLOAD_KEYS (docs/security.md)"
            )
        self._sealing = keys[0][0]
        self._ciphers = {key_id: AESGCM(derived_key(key, purpose)) for key_id, key in keys}

    def seal(self, plain: bytes, context: str) -> bytes:
        """`context` (a row's key) is authenticated: a sealed value cannot be moved to another."""
        key_id = self._sealing.encode()
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._sealing].encrypt(
            nonce, plain, key_id + b"\0" + context.encode()
        )
        return MARK + bytes([len(key_id)]) + key_id + nonce + sealed

    def open(self, stored: bytes, context: str) -> bytes:
        if not stored.startswith(MARK):
            return stored  # stored before sealing
        rest = stored[len(MARK) :]
        key_id, rest = rest[1 : 1 + rest[0]], rest[1 + rest[0] :]
        cipher = self._ciphers.get(key_id.decode())
        if cipher is None:
            raise ValueError(f"sealed with key {key_id.decode()!r}, not among the payload keys")
        nonce, sealed = rest[:NONCE_BYTES], rest[NONCE_BYTES:]
        try:
            return cipher.decrypt(nonce, sealed, key_id + b"\0" + context.encode())
        except InvalidTag:
            raise ValueError("a sealed value failed its integrity check") from None
