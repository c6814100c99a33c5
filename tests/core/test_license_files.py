"""License files: what the verifier a vendor copies accepts and rejects, key rotation, and the
format checked by an independent JOSE library (joserfc), as a product in another language would."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from joserfc import jws
from joserfc.jwk import KeySet

from core.license_signing import LicenseKeys
from core.license_signing import b64url
from core.license_signing import derived_keys
from core.license_signing import keys_from_file
from core.license_signing import new_private_jwk
from core.license_verifier import LicenseRejected
from core.license_verifier import verify
from core.settings import Settings
from workers.cli import main

NOW = time.time()


def claims(**overrides: object) -> dict[str, object]:
    return {"product": "network-inspector", "seats": 5, "fingerprint": "HOST-A",
            "iat": int(NOW), "nbf": int(NOW), "exp": int(NOW) + 3600} | overrides  # fmt: skip


def keys_file(tmp_path: Path, *jwks: dict[str, str]) -> Path:
    path = tmp_path / "license-keys.json"
    path.write_text(json.dumps({"keys": list(jwks)}))
    return path


def rejected(license_file: str, keys: LicenseKeys, **kwargs: object) -> str:
    with pytest.raises(LicenseRejected) as refusal:
        verify(license_file, keys.jwks(), **kwargs)  # type: ignore[arg-type]
    return refusal.value.reason


def test_a_file_verifies_for_its_installation_and_an_independent_library_agrees() -> None:
    keys = derived_keys("x" * 40)
    signed = keys.sign(claims())
    assert verify(signed, keys.jwks(), fingerprint="HOST-A")["seats"] == 5
    # The published set and the file, read by joserfc: a standard JWS with EdDSA and a key id.
    published = KeySet.import_key_set(keys.jwks())  # type: ignore[arg-type]
    parsed = jws.deserialize_compact(signed, published, ["Ed25519"])
    assert parsed.headers() == {"alg": "Ed25519", "typ": "license+jwt", "kid": keys.kid}
    assert json.loads(parsed.payload)["fingerprint"] == "HOST-A"


def test_tampered_foreign_expired_and_unknown_files_are_rejected() -> None:
    keys = derived_keys("x" * 40)
    header, body, signature = keys.sign(claims()).split(".")
    more_seats = b64url(json.dumps(claims(seats=500)).encode())
    assert rejected(f"{header}.{more_seats}.{signature}", keys) == "bad_signature"
    assert rejected(keys.sign(claims()), keys, fingerprint="HOST-B") == "other_installation"
    assert rejected(keys.sign(claims(exp=int(NOW) - 3600)), keys) == "expired"
    assert rejected(keys.sign(claims(nbf=int(NOW) + 3600)), keys) == "not_yet_valid"
    stranger = derived_keys("y" * 40)
    assert rejected(stranger.sign(claims()), keys) == "unknown_key"
    assert rejected("not.a-license", keys) == "malformed"
    assert rejected(f"{header}.{body}", keys) == "malformed"


def test_after_a_rotation_new_files_use_the_new_key_and_old_files_hold_until_they_expire(
    tmp_path: Path,
) -> None:
    old = new_private_jwk("2026-06")
    before = keys_from_file(keys_file(tmp_path, old))
    old_file = before.sign(claims())
    # The new key goes first; the old one stays published (its private part may go).
    public_old = {name: value for name, value in old.items() if name != "d"}
    after = keys_from_file(keys_file(tmp_path, new_private_jwk("2026-12"), public_old))
    new_file = after.sign(claims())
    assert jws.extract_compact(new_file.encode()).headers()["kid"] == "2026-12"
    for signed in (old_file, new_file):
        assert verify(signed, after.jwks(), fingerprint="HOST-A")["product"] == "network-inspector"
    # Once the old key leaves the set, its files no longer verify.
    retired = keys_from_file(
        keys_file(tmp_path, new_private_jwk("2027-06"), after.jwks()["keys"][0])
    )
    assert rejected(old_file, retired) == "unknown_key"


def test_a_keys_file_without_a_private_key_or_with_a_mismatched_one_is_refused(
    tmp_path: Path,
) -> None:
    public = {k: v for k, v in new_private_jwk("a").items() if k != "d"}
    with pytest.raises(ValueError, match="no key with a private part"):
        keys_from_file(keys_file(tmp_path, public))
    mismatched = new_private_jwk("b") | {"x": public["x"]}
    with pytest.raises(ValueError, match="do not match"):
        keys_from_file(keys_file(tmp_path, mismatched))


def test_the_cli_verifies_a_file_and_says_why_it_rejects_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = derived_keys("x" * 40)
    published = tmp_path / "jwks.json"
    published.write_text(json.dumps(keys.jwks()))
    license_file = tmp_path / "license.jwt"
    license_file.write_text(keys.sign(claims(term_ends_on="2027-12-31")))
    with pytest.raises(SystemExit) as done:
        main(["license", "verify", str(license_file), "--keys", str(published),
              "--fingerprint", "HOST-A"])  # fmt: skip
    assert done.value.code == 0
    assert "valid: network-inspector, 5 seats, for HOST-A" in capsys.readouterr().out
    with pytest.raises(SystemExit) as done:
        main(["license", "verify", str(license_file), "--keys", str(published),
              "--fingerprint", "HOST-B"])  # fmt: skip
    assert done.value.code == 1
    assert "rejected (other_installation)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["license", "new-key", "--kid", "2027-01"])
    made = json.loads(capsys.readouterr().out)
    assert (made["kid"], made["crv"], len(made["d"])) == ("2027-01", "Ed25519", 43)


def test_a_wrong_keys_file_stops_the_service_at_start(tmp_path: Path) -> None:
    public = {k: v for k, v in new_private_jwk("a").items() if k != "d"}
    with pytest.raises(ValueError, match="no key with a private part"):
        Settings(environment="development", license_keys_file=keys_file(tmp_path, public))
    good = Settings(
        environment="development", license_keys_file=keys_file(tmp_path, new_private_jwk("b"))
    )
    assert good.license_keys().kid == "b"
