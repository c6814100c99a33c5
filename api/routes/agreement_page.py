"""An agreement's own page, in the reader's language, for catalogs that keep the text rather
than the vendor's URL (docs/pages.md)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi import Request
from fastapi.responses import HTMLResponse

from api.catalog_names import Names
from api.deps import CatalogDep
from api.deps import SettingsDep
from api.pages import page_locale
from api.pages import render

router = APIRouter(tags=["customer pages"], include_in_schema=False)


@router.get("/agreements/{agreement_id}", response_class=HTMLResponse)
async def agreement_page(
    agreement_id: str, request: Request, settings: SettingsDep, catalog: CatalogDep
) -> HTMLResponse:
    """An agreement's text in the reader's language, for catalogs that keep the text (a vendor's
    URL goes to the vendor's page)."""
    locale = page_locale(request, "")
    agreement = Names(catalog, locale).agreement(agreement_id)
    if agreement is None or not agreement.text_in(locale):
        return render(
            request,
            settings,
            "message",
            locale=locale,
            status_code=404,
            key="dead.invalid",
            back=False,
        )
    return render(request, settings, "agreement", locale=locale, agreement=agreement)
