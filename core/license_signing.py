"""Signing on-premises license files (docs/on-premises.md): the keys, their published set and the
signature. The private keys live in the worker's settings only (a file or derived from the
secret key); an activity signs, so no workflow history, log or database row ever holds one.

Rotation: `ACTIVATION_LICENSE_KEYS_FILE` is a JWK Set; its first private key signs new files,
and every key in it is published, so files signed by an older key verify until they expire.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.license_verifier import ALGORITHM
from core.license_verifier import TYPE
from core.license_verifier import b64url_decode


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_jwk(kid: str, key: Ed25519PublicKey) -> dict[str, str]:
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(_raw(key)), "kid": kid, "use": "sig",
            "alg": ALGORITHM}  # fmt: skip


def new_private_jwk(kid: str) -> dict[str, str]:
    """A new signing key as a private JWK (for the keys file: `activation license new-key`)."""
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return public_jwk(kid, key.public_key()) | {"d": b64url(seed)}


@dataclass(frozen=True)
class LicenseKeys:
    kid: str  # the key that signs new files
    signing: Ed25519PrivateKey
    published: dict[str, Ed25519PublicKey]  # every key a file may be signed by, by id

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(kid, key) for kid, key in self.published.items()]}

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": ALGORITHM, "typ": TYPE, "kid": self.kid}
        signed = ".".join(
            b64url(json.dumps(part, separators=(",", ":"), sort_keys=True).encode())
            for part in (header, claims)
        )
        return f"{signed}.{b64url(self.signing.sign(signed.encode()))}"


def derived_keys(secret_key: str) -> LicenseKeys:
    """Without a keys file: one key derived from the secret key (as secret as it is; it cannot
    rotate on its own, which a keys file can)."""
    seed = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"activation-pipelines/license-key"
    ).derive(secret_key.encode())
    signing = Ed25519PrivateKey.from_private_bytes(seed)
    kid = "derived-" + hashlib.sha256(_raw(signing.public_key())).hexdigest()[:12]
    return LicenseKeys(kid, signing, {kid: signing.public_key()})


def keys_from_file(path: Path) -> LicenseKeys:
    """The keys file: a JWK Set of Ed25519 keys; the first with a private part signs."""
    signing: tuple[str, Ed25519PrivateKey] | None = None
    published: dict[str, Ed25519PublicKey] = {}
    for jwk in json.loads(path.read_text())["keys"]:
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not jwk.get("kid"):
            raise ValueError(f"{path}: every key must be an Ed25519 JWK with a kid")
        public = Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"]))
        published[jwk["kid"]] = public
        if "d" in jwk and signing is None:
            private = Ed25519PrivateKey.from_private_bytes(b64url_decode(jwk["d"]))
            if _raw(private.public_key()) != _raw(public):
                raise ValueError(f"{path}: key {jwk['kid']}: d and x do not match")
            signing = (jwk["kid"], private)
    if signing is None:
        raise ValueError(f"{path}: no key with a private part (d) to sign with")
    return LicenseKeys(signing[0], signing[1], published)
