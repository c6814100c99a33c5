"""Sealing at rest: rotation with the payload keys, each value bound to its row."""

from __future__ import annotations

import pytest

from core.payload_codec import new_key_entry
from core.sealing import Sealer

OLD, NEW = new_key_entry("k-1"), new_key_entry("k-2")


def test_a_value_sealed_with_an_old_key_opens_after_a_new_key_came_first() -> None:
    sealed = Sealer([OLD], "mail outbox").seal(b"the mail", "key-1")
    assert b"the mail" not in sealed
    assert Sealer([NEW, OLD], "mail outbox").open(sealed, "key-1") == b"the mail"
    with pytest.raises(ValueError, match="not among the payload keys"):
        Sealer([NEW], "mail outbox").open(sealed, "key-1")


def test_a_sealed_value_opens_only_for_its_own_row_and_purpose() -> None:
    sealer = Sealer([NEW], "mail outbox")
    sealed = sealer.seal(b"the mail", "key-1")
    with pytest.raises(ValueError, match="integrity"):
        sealer.open(sealed, "key-2")
    with pytest.raises(ValueError, match="integrity"):
        Sealer([NEW], "something else").open(sealed, "key-1")


def test_a_value_stored_before_sealing_reads_as_it_is_and_no_key_is_refused() -> None:
    assert Sealer([NEW], "mail outbox").open(b"From: a\r\n", "key-1") == b"From: a\r\n"
    with pytest.raises(ValueError, match="ACTIVATION_PAYLOAD_KEYS"):
        Sealer([], "mail outbox")
