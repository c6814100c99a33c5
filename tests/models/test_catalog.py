from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.catalog import load_catalog


def ids(agreements: list) -> list[str]:  # type: ignore[type-arg]
    return [agreement.id for agreement in agreements]


def test_the_default_catalog_has_the_designed_products() -> None:
    catalog = load_catalog()
    assert {code: p.kind for code, p in catalog.products.items()} == {
        "endpoint-protection": "service",
        "edr-addon": "addon",
        "xdr-credits": "credits",
    }


def test_cloud_products_need_the_cloud_terms_and_the_notices() -> None:
    required = load_catalog().required_agreements(["endpoint-protection", "xdr-credits"])
    assert ids(required) == ["cloud-service-terms", "privacy-notice", "data-collection-notice"]
    assert all(agreement.version for agreement in required)


def test_a_catalog_file_adds_on_premises_software(tmp_path: Path) -> None:
    data = json.loads((Path(__file__).parents[2] / "models" / "catalog.json").read_text())
    data["products"].append(
        {
            "code": "server-suite",
            "name": "Server Suite",
            "kind": "service",
            "deployment": "on-premises",
        }
    )
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data))
    required = load_catalog(path).required_agreements(["server-suite"])
    assert ids(required) == [
        "business-software-agreement",
        "privacy-notice",
        "data-collection-notice",
    ]


def test_an_unknown_product_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown product"):
        load_catalog().required_agreements(["no-such-thing"])
