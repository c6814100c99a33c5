"""The catalog's things as the customer's pages name them, in the page's language: products,
regions, instances and agreements (their titles and texts), with the names orders and flows
carry as the fallback."""

from __future__ import annotations

from dataclasses import dataclass

from models.catalog import Agreement
from models.catalog import Catalog
from models.records.domain import ProductInstance


@dataclass(frozen=True)
class Names:
    catalog: Catalog
    locale: str

    def product(self, code: str, fallback: str = "") -> str:
        product = self.catalog.products.get(code)
        return product.name_in(self.locale) if product else (fallback or code)

    def region(self, code: str) -> str:
        return self.catalog.region_name(code, self.locale)

    def instance(self, row: ProductInstance) -> str:
        return self.catalog.instance_name(
            row.description, row.product_code, row.region, self.locale
        )

    def agreement(self, agreement_id: str) -> Agreement | None:
        return next((a for a in self.catalog.agreements if a.id == agreement_id), None)

    def agreement_title(self, agreement_id: str, fallback: str) -> str:
        agreement = self.agreement(agreement_id)
        return agreement.title_in(self.locale) if agreement else fallback

    def agreement_url(self, agreement_id: str) -> str:
        """Where its text is: the vendor's page in this language, else ours."""
        agreement = self.agreement(agreement_id)
        url = agreement.url_in(self.locale) if agreement else None
        return url or f"/agreements/{agreement_id}"
