"""The product catalog and the agreements each product needs: data, not code (docs/domain.md).

The default is `catalog.json` beside this file; `ACTIVATION_CATALOG_FILE` points to another.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import Literal

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import model_validator

from core.settings import Settings
from core.words import LOCALES

DEFAULT_CATALOG = Path(__file__).parent / "catalog.json"
log = logging.getLogger(__name__)


class Provisioning(BaseModel):
    """Where the vendor's product backend takes provisioning calls (docs/provisioning.md): a
    base URL per region, `*` for any region not named."""

    model_config = ConfigDict(frozen=True)

    urls: dict[str, str]

    def url_for(self, region: str) -> str | None:
        return self.urls.get(region) or self.urls.get("*")


def in_language(default: str, translations: dict[str, str], locale: str) -> str:
    """A catalog's word in the reader's language: its translation if the catalog has one."""
    return translations.get(locale) or default


class Product(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name: str  # as orders, flows and the API name it
    names: dict[str, str] = {}  # what the customer's pages and mails say, per language

    def name_in(self, locale: str) -> str:
        return in_language(self.name, self.names, locale)

    kind: Literal["service", "addon", "credits"]
    deployment: Literal["cloud", "on-premises"]
    # A service product whose instances the vendor's backend creates; without it an instance
    # is a row of ours only.
    provisioning: Provisioning | None = None


class Agreement(BaseModel):
    """An agreement the customer accepts. The customer reads it in their language: its text
    here (`texts`) or where the vendor publishes it (`urls`), per language; `en` is the
    fallback. A `sample` text is the default catalog's placeholder, refused in production."""

    model_config = ConfigDict(frozen=True)

    id: str
    version: str
    title: str  # as the acceptance records name it
    required_for: tuple[Literal["all", "cloud", "on-premises"], ...]
    titles: dict[str, str] = {}
    urls: dict[str, str] = {}
    texts: dict[str, str] = {}
    sample: bool = False

    @model_validator(mode="before")
    @classmethod
    def _one_language(cls, data: Any) -> Any:
        """Catalogs written before languages: `url` and `text` are the English ones."""
        if isinstance(data, dict):
            data = dict(data)
            for single, per_language in (("url", "urls"), ("text", "texts")):
                if data.get(single):
                    data.setdefault(per_language, {"en": data[single]})
                data.pop(single, None)
        return data

    def title_in(self, locale: str) -> str:
        return in_language(self.title, self.titles, locale)

    def url_in(self, locale: str) -> str | None:
        return self.urls.get(locale) or self.urls.get("en")

    def text_in(self, locale: str) -> str | None:
        return self.texts.get(locale) or self.texts.get("en")

    def readable_in(self, locale: str) -> bool:
        return bool(self.url_in(locale) or self.text_in(locale))


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
    region_names: dict[str, dict[str, str]] = {}


@dataclass(frozen=True)
class Catalog:
    products: dict[str, Product]
    agreements: tuple[Agreement, ...]
    regions: tuple[str, ...]  # where instances can be provisioned; the first is the default
    sensors: dict[str, Sensor] = field(default_factory=dict)
    region_names: dict[str, dict[str, str]] = field(default_factory=dict)  # per language

    def product(self, code: str) -> Product:
        try:
            return self.products[code]
        except KeyError:
            raise ValueError(f"unknown product {code!r}") from None

    def region_name(self, region: str, locale: str) -> str:
        return in_language(region, self.region_names.get(region, {}), locale)

    def instance_name(self, name: str | None, product_code: str, region: str, locale: str) -> str:
        """An instance as a person knows it: its own name (or its product's, in `locale`, when
        the name is just the product's), and its region."""
        product = self.products.get(product_code)
        named = name and not (product and name == product.name)
        if named:
            shown = name
        else:
            shown = product.name_in(locale) if product else product_code
        return f"{shown} · {self.region_name(region, locale)}"

    def unreadable(self, locales: Iterable[str]) -> list[str]:
        """What keeps this catalog out of production: agreements a customer of one of
        `locales` cannot read."""
        problems = []
        for agreement in self.agreements:
            for locale in locales:
                if not agreement.readable_in(locale):
                    problems.append(f"{agreement.id}: no text or URL a {locale} reader can read")
        return problems

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
        data.region_names,
    )


def catalog_for(settings: Settings) -> Catalog:
    """The catalog the settings name. Production refuses one whose agreements a customer
    could not read in a language of the pages, and warns while texts are still the samples
    (the compose file's evaluation runs on them)."""
    catalog = load_catalog(settings.catalog_file)
    if settings.environment == "production":
        problems = catalog.unreadable(LOCALES)
        if problems:
            raise ValueError(
                "the catalog's agreements are not ready for customers (ACTIVATION_CATALOG_FILE): "
                + "; ".join(problems)
            )
        samples = [agreement.id for agreement in catalog.agreements if agreement.sample]
        if samples:
            log.warning(
                "agreements %s show the packaged sample texts: set ACTIVATION_CATALOG_FILE to "
                "a catalog with your own before customers see them",
                ", ".join(samples),
            )
    return catalog
