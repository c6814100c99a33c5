from __future__ import annotations

import uuid

from core.tokens import domain_key
from core.tokens import hash_token
from core.tokens import is_domain_key
from core.tokens import keyed_uuid
from core.tokens import mask_email
from core.tokens import new_token
from core.tokens import split_token


def test_domain_keys_are_stable_keyed_and_opaque() -> None:
    key = domain_key("secret", "signup", "ada@example.com")
    assert key == domain_key("secret", "signup", "ada@example.com") and is_domain_key(key)
    assert key != domain_key("other-secret", "signup", "ada@example.com")
    assert "ada" not in key


def test_ids_keyed_from_a_sales_reference_need_the_secret_key() -> None:
    order_id = keyed_uuid("k" * 32, "order", "SO-1001")
    assert order_id == keyed_uuid("k" * 32, "order", "SO-1001")
    assert order_id != keyed_uuid("j" * 32, "order", "SO-1001")
    # Not the formerly used, computable uuid5 of a fixed namespace.
    old_namespace = uuid.UUID("6f1c3f0e-2f5e-4f57-9a57-0d7f3b1c9a10")
    assert order_id != str(uuid.uuid5(old_namespace, "SO-1001"))
    assert uuid.UUID(order_id).version == 4


def test_tokens_split_into_a_public_part_and_a_secret() -> None:
    token = new_token("a" * 24)
    assert split_token(token) == ("a" * 24, token.split(".")[1])
    assert new_token("a" * 24) != token
    assert split_token("no-dot") is None and split_token("a.short") is None
    assert len(hash_token(token)) == 64 and hash_token(token) != token


def test_emails_are_masked_for_operators() -> None:
    assert mask_email("grace@example.com") == "g***@example.com"
