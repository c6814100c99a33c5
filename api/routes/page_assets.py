"""The customer pages' own stylesheet, script and logo (docs/pages.md): served by the API, so the
pages' Content-Security-Policy allows nothing from elsewhere."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.responses import Response

from api.deps import SettingsDep

router = APIRouter(tags=["customer pages"], include_in_schema=False)
ASSETS = Path(__file__).parent.parent / "assets"
PAGES_CSS = (ASSETS / "pages.css").read_text()
PAGES_JS = (ASSETS / "pages.js").read_text()


@router.get("/assets/pages.css", include_in_schema=False)
async def pages_css(settings: SettingsDep) -> Response:
    css = PAGES_CSS.replace("BRAND_COLOR", settings.brand_color)
    return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=300"})


@router.get("/assets/logo", include_in_schema=False)
async def brand_logo(settings: SettingsDep) -> Response:
    if settings.brand_logo_file is None or not settings.brand_logo_file.is_file():
        return Response(status_code=404)
    return FileResponse(settings.brand_logo_file, headers={"Cache-Control": "max-age=300"})


@router.get("/assets/pages.js", include_in_schema=False)
async def pages_js() -> Response:
    return Response(
        PAGES_JS, media_type="text/javascript", headers={"Cache-Control": "max-age=300"}
    )


# A square in the brand's colour: enough for a tab to be told apart, and no file to ship.
FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    '<rect width="16" height="16" rx="3" fill="BRAND_COLOR"/>'
    '<path d="M4 8.5l2.5 2.5L12 5.5" stroke="#fff" stroke-width="2" fill="none"/></svg>'
)


@router.get("/assets/favicon.svg", include_in_schema=False)
async def favicon(settings: SettingsDep) -> Response:
    svg = FAVICON.replace("BRAND_COLOR", settings.brand_color)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "max-age=300"})
