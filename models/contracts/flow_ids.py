"""A flow kind's workflow IDs (docs/architecture.md): `<kind>-<key>`, one flow per domain key,
and never a secret in the key (IDs are listed in the Temporal UI)."""

from __future__ import annotations

from collections.abc import Callable


def flow_ids(kind: str) -> tuple[str, Callable[[str], str]]:
    """The prefix of the kind's workflow IDs, and the ID of its flow for a key."""
    prefix = f"{kind}-"

    def flow_id_of(key: str) -> str:
        return prefix + key

    return prefix, flow_id_of
