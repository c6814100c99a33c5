"""Verify an on-premises license file without calling anyone: copy this one module into the
product (it needs Python 3.11+ and `cryptography` only). docs/on-premises.md shows the same in
other languages with their standard JOSE libraries.

A license file is a JWS in compact serialization (RFC 7515) signed with Ed25519 (RFC 8037; the
algorithm named `Ed25519` as RFC 9864 asks), `typ` `license+jwt`; the service publishes its
public keys, each with its key id, as a JWK Set at `/.well-known/jwks.json`. Ship that set with
the product (and refresh it when online): a file verifies while the key that signed it is in the
set, and until it expires.

    claims = verify(open("license.jwt").read(), jwks, fingerprint=this_machines_fingerprint)
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

TYPE = "license+jwt"
# RFC 9864's fully specified name (RFC 8037 called it "EdDSA", now deprecated for new formats).
ALGORITHM = "Ed25519"
# How far the clocks of the product and the service may disagree, in seconds.
LEEWAY = 300


class LicenseRejected(Exception):
    """Why a license file does not hold: `reason` is one of `malformed`, `unknown_key`,
    `bad_signature`, `expired`, `not_yet_valid` and `other_installation`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def public_keys(jwks: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """The set's Ed25519 signing keys by key id (other kinds of keys are left out)."""
    keys = {}
    for jwk in jwks.get("keys", []):
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519" and "kid" in jwk:
            keys[jwk["kid"]] = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
    return keys


def verify(
    license_file: str,
    jwks: Mapping[str, Any],
    *,
    fingerprint: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """The license's claims, once the file is signed by a key of `jwks`, is valid at `now` (the
    current time by default) and, with `fingerprint`, was issued to that installation.
    Anything else raises `LicenseRejected`."""
    try:
        header_part, claims_part, signature_part = license_file.strip().split(".")
        header = json.loads(b64url_decode(header_part))
        claims = json.loads(b64url_decode(claims_part))
        signature = b64url_decode(signature_part)
    except (ValueError, binascii.Error) as err:  # json and base64 errors are ValueErrors
        raise LicenseRejected("malformed", f"not a license file: {err}") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise LicenseRejected("malformed", "not a license file")
    if header.get("alg") != ALGORITHM or header.get("typ") != TYPE:
        raise LicenseRejected("malformed", f"not a license file signed with {ALGORITHM}")
    key = public_keys(jwks).get(header.get("kid", ""))
    if key is None:
        raise LicenseRejected("unknown_key", f"signed by an unknown key {header.get('kid')!r}")
    try:
        key.verify(signature, f"{header_part}.{claims_part}".encode())
    except InvalidSignature:
        raise LicenseRejected("bad_signature", "the signature does not match") from None
    now = time.time() if now is None else now
    if now > claims.get("exp", 0) + LEEWAY:
        raise LicenseRejected("expired", "the license file has expired")
    if now < claims.get("nbf", 0) - LEEWAY:
        raise LicenseRejected("not_yet_valid", "the license file is not valid yet")
    if fingerprint is not None and claims.get("fingerprint") != fingerprint:
        raise LicenseRejected("other_installation", "issued to another installation")
    return claims
