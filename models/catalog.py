"""The product catalog and the agreements each product needs: data, not code (docs/domain.md).

The default is `catalog.json` beside this file; `ACTIVATION_CATALOG_FILE` points to another.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel
from pydantic import ConfigDict

DEFAULT_CATALOG = Path(__file__).parent / "catalog.json"


class Provisioning(BaseModel):
    """Where the vendor's product backend takes provisioning calls (docs/provisioning.md): a
    base URL per region, `*` for any region not named."""

    model_config = ConfigDict(frozen=True)

    urls: dict[str, str]

    def url_for(self, region: str) -> str | None:
        return self.urls.get(region) or self.urls.get("*")


class Product(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    kind: Literal["service", "addon", "credits"]
    deployment: Literal["cloud", "on-premises"]
    # A service product whose instances the vendor's backend creates; without it an instance
    # is a row of ours only.
    provisioning: Provisioning | None = None


class Agreement(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    version: str
    title: str
    required_for: tuple[Literal["all", "cloud", "on-premises"], ...]
    # Where its text is published; without one, the customer's pages show `text`.
    url: str | None = None
    text: str | None = None


class Sensor(BaseModel):
    """What credits are spent on: a sensor kind and its price per unit (docs/domain.md)."""

    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    credits_per_unit: int
    unit: str  # endpoint, mailbox, Gbps, device, daily submission
    retention_days: int
    # Its units are a daily quota, whose usage resets at 00:00 UTC (the sandbox).
    daily_quota: bool = False


class _CatalogFile(BaseModel):
    regions: list[str]
    products: list[Product]
    agreements: list[Agreement]
    sensors: list[Sensor] = []


@dataclass(frozen=True)
class Catalog:
    products: dict[str, Product]
    agreements: tuple[Agreement, ...]
    regions: tuple[str, ...]  # where instances can be provisioned; the first is the default
    sensors: dict[str, Sensor] = field(default_factory=dict)

    def product(self, code: str) -> Product:
        try:
            return self.products[code]
        except KeyError:
            raise ValueError(f"unknown product {code!r}") from None

    def required_agreements(self, product_codes: Iterable[str]) -> list[Agreement]:
        """Every activation needs the `all` agreements, plus those of each deployment involved."""
        deployments = {self.product(code).deployment for code in product_codes}
        return [
            agreement
            for agreement in self.agreements
            if "all" in agreement.required_for or deployments & set(agreement.required_for)
        ]


def load_catalog(path: Path | None = None) -> Catalog:
    data = _CatalogFile.model_validate(json.loads((path or DEFAULT_CATALOG).read_text()))
    return Catalog(
        {product.code: product for product in data.products},
        tuple(data.agreements),
        tuple(data.regions),
        {sensor.code: sensor for sensor in data.sensors},
    )
