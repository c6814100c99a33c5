"""docs/webhooks.md gives each event type of the catalog, in its order, with an example that is
an event of that type (and no type the service does not have)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from models.records.events import EVENT_TYPES

PAGE = Path(__file__).parent.parent.parent / "docs" / "webhooks.md"


def test_the_page_gives_every_type_with_an_example() -> None:
    catalog = PAGE.read_text().split("## The catalog", 1)[1]
    sections = re.findall(r"^### `([a-z_.]+)`\n(.*?)(?=^### |\Z)", catalog, re.M | re.S)
    assert [name for name, _ in sections] == list(EVENT_TYPES)
    for name, text in sections:
        (example,) = re.findall(r"```json\n(.*?)```", text, re.S)
        event = json.loads(example)
        assert set(event) == {"id", "type", "timestamp", "business_id", "data"}, name
        assert event["type"] == name and event["id"].startswith("evt_") and event["data"]
