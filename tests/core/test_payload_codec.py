from __future__ import annotations

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter

from core.payload_codec import KEY_ID
from core.payload_codec import EncryptionCodec
from core.payload_codec import UnknownKeyError
from core.payload_codec import new_key_entry

pytestmark = pytest.mark.asyncio
OLD, NEW = new_key_entry("2026-01"), new_key_entry("2026-07")


def plain(text: str) -> Payload:
    (payload,) = DataConverter.default.payload_converter.to_payloads([text])
    return payload


async def test_a_payload_is_sealed_with_the_newest_key_and_opens_again() -> None:
    codec = EncryptionCodec([NEW, OLD])
    (sealed,) = await codec.encode([plain("ada@example.com")])
    assert sealed.metadata[KEY_ID] == b"2026-07" and b"ada@example.com" not in sealed.data
    assert await codec.decode([sealed]) == [plain("ada@example.com")]


async def test_after_a_rotation_the_old_key_still_opens_what_it_sealed() -> None:
    (before,) = await EncryptionCodec([OLD]).encode([plain("Acme Corp")])
    rotated = EncryptionCodec([NEW, OLD])
    assert await rotated.decode([before]) == [plain("Acme Corp")]
    (after,) = await rotated.encode([plain("Acme Corp")])
    assert after.metadata[KEY_ID] == b"2026-07"
    with pytest.raises(UnknownKeyError, match="'2026-07'.*ACTIVATION_PAYLOAD_KEYS"):
        await EncryptionCodec([OLD]).decode([after])  # a process not given the new key says so


async def test_payloads_from_before_encryption_pass_through() -> None:
    assert await EncryptionCodec([NEW]).decode([plain("old flow")]) == [plain("old flow")]


async def test_a_tampered_payload_or_a_key_id_swapped_is_refused() -> None:
    codec = EncryptionCodec([NEW, OLD])
    (sealed,) = await codec.encode([plain("x")])
    tampered = Payload(metadata=sealed.metadata, data=sealed.data[:-1] + b"\0")
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID: b"2026-01"}, data=sealed.data)
    for payload in (tampered, relabelled):
        with pytest.raises(ValueError, match="integrity"):
            await codec.decode([payload])
