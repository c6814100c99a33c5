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
