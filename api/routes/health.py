"""Liveness (`/health`: the process answers) apart from readiness (`/ready`: the database and
Temporal answer too). An orchestrator restarts a process that is not alive, and sends no traffic
to one that is not ready: a database restart must not restart every API process."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import TemporalDep

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """200 while the process serves requests."""
    return {"status": "ok"}


@router.get("/ready")
async def ready(request: Request, client: TemporalDep) -> JSONResponse:
    """200 when the database and Temporal answer, 503 (with which one failed) otherwise."""
    checks = {"database": "ok", "temporal": "ok"}
    try:
        async with request.app.state.sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception as err:  # any failure means "not healthy", reported by type only
        checks["database"] = f"error: {type(err).__name__}"
    try:
        if not await client.service_client.check_health():
            checks["temporal"] = "error: not serving"
    except Exception as err:
        checks["temporal"] = f"error: {type(err).__name__}"
    healthy = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if healthy else "degraded", **checks}
    return JSONResponse(body, status_code=200 if healthy else 503)
