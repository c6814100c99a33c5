from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.payload_codec import new_key_entry
from core.settings import Settings
from models.catalog import catalog_for
from models.catalog import load_catalog
from tests.support.catalogs import published_agreements


def ids(agreements: list) -> list[str]:  # type: ignore[type-arg]
    return [agreement.id for agreement in agreements]


def test_the_default_catalog_has_the_designed_products() -> None:
    catalog = load_catalog()
    assert {code: p.kind for code, p in catalog.products.items()} == {
        "endpoint-protection": "service",
        "edr-addon": "addon",
        "xdr-credits": "credits",
        "network-sensor": "service",  # on-premises: activated with its certificate's code
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


def production(catalog_file: Path | None) -> Settings:
    return Settings(
        _env_file=None,
        environment="production",
        secret_key="k" * 40,
        api_keys=["a" * 20],
        payload_keys=[new_key_entry("k1")],
        catalog_file=catalog_file,
    )


def test_production_refuses_unreadable_agreements_and_warns_of_samples(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    catalog_for(production(None))  # the packaged samples: it starts, and says so
    assert "show the packaged sample texts" in caplog.text and "privacy-notice" in caplog.text
    path = published_agreements(tmp_path / "catalog.json", languages=("zh-TW",))
    with pytest.raises(ValueError, match="no text or URL a en reader can read"):
        catalog_for(production(path))  # a Chinese text only: an English reader has none
    path = published_agreements(tmp_path / "catalog.json")
    catalog = catalog_for(production(path))
    terms = catalog.agreements[0]
    assert terms.url_in("zh-TW") == "https://vendor.example/zh-TW/cloud-service-terms"
    assert terms.title_in("zh-TW") == "雲端服務條款" and terms.title_in("en") == terms.title


def test_the_default_catalog_names_things_in_both_languages() -> None:
    catalog = load_catalog()
    for agreement in catalog.agreements:
        assert agreement.readable_in("en") and agreement.readable_in("zh-TW")
        assert agreement.text_in("en") != agreement.text_in("zh-TW")
        assert "SAMPLE" in (agreement.text_in("en") or "")  # clearly marked
    assert catalog.products["endpoint-protection"].name_in("zh-TW") == "端點防護"
    assert all(catalog.region_name(code, "zh-TW") != code for code in catalog.regions)
