"""`activation license verify | new-key`: check a license file as an installation would (with the
published keys, no call to the service beyond fetching them), and make a signing key for the
keys file (docs/on-premises.md)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from core.license_signing import new_private_jwk
from core.license_verifier import LicenseRejected
from core.license_verifier import verify


def add_commands(commands: Any) -> None:
    license = commands.add_parser("license", help="verify license files, make signing keys")
    actions = license.add_subparsers(dest="action", required=True)
    check = actions.add_parser("verify", help="verify a license file offline")
    check.add_argument("file", type=Path, help="the license file")
    check.add_argument(
        "--keys",
        required=True,
        help="the published keys: a JWK Set file, or the service's /.well-known/jwks.json URL",
    )
    check.add_argument("--fingerprint", help="the installation the file must be for")
    key = actions.add_parser("new-key", help="print a new Ed25519 signing key (a private JWK)")
    key.add_argument("--kid", default=None, help="its key id (default: today's date)")


def run(args: argparse.Namespace) -> int:
    if args.action == "new-key":
        kid = args.kid or datetime.now(UTC).strftime("%Y-%m-%d")
        sys.stdout.write(json.dumps(new_private_jwk(kid), indent=2) + "\n")
        return 0
    keys = _published_keys(args.keys)
    try:
        claims = verify(args.file.read_text(), keys, fingerprint=args.fingerprint)
    except LicenseRejected as rejected:
        sys.stderr.write(f"rejected ({rejected.reason}): {rejected}\n")
        return 1
    until = datetime.fromtimestamp(claims["exp"], UTC).strftime("%Y-%m-%d %H:%M UTC")
    sys.stdout.write(
        f"valid: {claims['product']}, {claims['seats']} seats, for {claims['fingerprint']}, "
        f"until {until} (term ends {claims['term_ends_on']})\n"
    )
    return 0


def _published_keys(where: str) -> dict[str, Any]:
    if where.startswith(("https://", "http://")):
        response = httpx.get(where, timeout=10)
        response.raise_for_status()
        keys: dict[str, Any] = response.json()
        return keys
    published: dict[str, Any] = json.loads(Path(where).read_text())
    return published
