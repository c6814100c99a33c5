from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.client import Client

from api.app import create_app
from core.settings import Settings
from tests.support.declared_refusals import DeclaredRefusals


@pytest.fixture
async def api(time_client: Client, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API in-process over HTTP semantics (ASGI), on the time-skipping server with a worker."""
    app = create_app(settings, temporal=time_client)
    observed = DeclaredRefusals(app)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=observed)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    observed.assert_declared()
