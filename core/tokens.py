"""Secrets and keys derived from them. Only a token's hash leaves the code that made it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid

_KEY_ALPHABET = set("abcdefghijklmnopqrstuvwxyz234567")


def domain_key(secret_key: str, *parts: str) -> str:
    """A stable, non-reversible key for a domain tuple (e.g. purpose + email), for workflow IDs."""
    digest = hmac.new(secret_key.encode(), "\x1f".join(parts).encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:15]).decode().lower()


def keyed_uuid(secret_key: str, *parts: str) -> str:
    """A UUID derived from a domain tuple with the secret key: the same for the same tuple, and
    not computable by whoever knows the tuple (an order's sales reference, say)."""
    digest = hmac.new(secret_key.encode(), "\x1f".join(parts).encode(), hashlib.sha256).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def random_key() -> str:
    """A random key shaped like `domain_key` (24 base32 characters): a token's public id."""
    return base64.b32encode(secrets.token_bytes(15)).decode().lower()


def is_domain_key(value: str) -> bool:
    return len(value) == 24 and set(value) <= _KEY_ALPHABET


def new_token(public_part: str) -> str:
    """`<public part>.<secret>`: the public part routes the token, the secret proves possession."""
    return f"{public_part}.{secrets.token_urlsafe(32)}"


def split_token(token: str) -> tuple[str, str] | None:
    public_part, dot, secret = token.partition(".")
    if not dot or not public_part or len(secret) < 32:
        return None
    return public_part, secret


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mask_name(name: str) -> str:
    """`A*** C***`: a company's name, recognisable to its owner, not readable by a bystander."""
    return " ".join(f"{word[:1]}***" for word in name.split())


def mask_email(email: str) -> str:
    """`j***@example.com`: enough for an operator to recognise, not to harvest."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"
