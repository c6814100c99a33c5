"""A catalog production accepts: the default one with the vendor's published agreements (URLs
per language) in place of the sample texts."""

from __future__ import annotations

import json
from pathlib import Path

from models.catalog import DEFAULT_CATALOG


def published_agreements(path: Path, languages: tuple[str, ...] = ("en", "zh-TW")) -> Path:
    data = json.loads(DEFAULT_CATALOG.read_text())
    for agreement in data["agreements"]:
        agreement.pop("sample")
        agreement.pop("texts")
        agreement["urls"] = {
            language: f"https://vendor.example/{language}/{agreement['id']}"
            for language in languages
        }
    path.write_text(json.dumps(data))
    return path
