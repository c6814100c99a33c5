"""What a Business does with its credits (docs/domain.md): allocate them to sensor kinds (the
primary account), read the balance, allocations and the sandbox quota, price a set of sensors
(the Credit Calculator), and count sandbox submissions against the daily quota, which resets at
00:00 UTC."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter
from fastapi import Depends
from fastapi import Path
from fastapi import status
from pydantic import BaseModel
from pydantic import Field

from api.deps import ActingPrimary
from api.deps import ApiKey
from api.deps import CatalogDep
from api.deps import SessionDep
from api.deps import SettingsDep
from api.deps import TemporalDep
from api.deps import require_business
from api.errors import BAD_BODY
from api.errors import BUSINESS_ERRORS
from api.errors import OWNER_ERRORS
from api.errors import ApiError
from api.errors import responses
from api.fields import Body
from api.fields import Count
from api.flow_clients import run_change
from models.catalog import Catalog
from models.catalog import Sensor
from models.contracts.credits import SANDBOX
from models.contracts.direct_change import ALLOCATE_CREDITS
from models.contracts.direct_change import RECORD_SANDBOX_SUBMISSIONS
from models.contracts.direct_change import AllocateCreditsInput
from models.contracts.direct_change import SandboxSubmissionsInput
from models.errors import CreditError
from models.records.credit_queries import credits_now
from models.records.domain import Business
from models.records.domain import CreditAllocation

router = APIRouter(prefix="/v1", tags=["credits"], dependencies=[ApiKey])

KnownBusinessRow = Annotated[Business, Depends(require_business)]
SensorCode = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,50}$", description="A sensor kind")]
MAX_UNITS = 1_000_000


class AllocationPublic(BaseModel):
    sensor: str
    name: str
    units: int
    unit: str
    credits: int


class SandboxPublic(BaseModel):
    daily_quota: int
    used_today: int
    resets_at: datetime


class CreditsPublic(BaseModel):
    balance: int
    allocated: int
    remaining: int
    allocations: list[AllocationPublic]
    sandbox: SandboxPublic


class AllocationSet(Body):
    units: Count = Field(ge=0, le=MAX_UNITS, description="0 releases the allocation")


class CalculatorAsk(Body):
    sensors: dict[str, Annotated[Count, Field(ge=0, le=MAX_UNITS)]] = Field(
        description='Units per sensor kind, e.g. {"xdr-endpoint": 7}', max_length=20
    )
    business_id: str | None = Field(None, pattern=r"^[0-9a-f-]{36}$")


class CalculatorLine(BaseModel):
    sensor: str
    name: str
    units: int
    credits_per_unit: int
    credits: int


class CalculatorAnswer(BaseModel):
    lines: list[CalculatorLine]
    total: int
    balance: int | None = None  # when a Business is named
    enough: bool | None = None


class SubmissionsAsk(Body):
    count: int = Field(1, ge=1, le=1000)


def _sensor(catalog: Catalog, code: str) -> Sensor:
    sensor = catalog.sensors.get(code)
    if sensor is None:
        raise ApiError(CreditError.UNKNOWN_SENSOR, f"no sensor kind {code!r} in the catalog")
    return sensor


def _next_midnight() -> datetime:
    now = datetime.now(UTC)
    return datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)


def _allocation(catalog: Catalog, row: CreditAllocation) -> AllocationPublic:
    kind = catalog.sensors.get(row.sensor_code)  # a sensor kind the catalog dropped still shows
    return AllocationPublic(
        sensor=row.sensor_code,
        name=kind.name if kind else row.sensor_code,
        units=row.units,
        unit=kind.unit if kind else "",
        credits=row.credits,
    )


async def _credits(session: SessionDep, catalog: Catalog, business: Business) -> CreditsPublic:
    now = await credits_now(session, business.id)
    allocations = [_allocation(catalog, row) for row in now.allocations if row.units]
    allocated = sum(a.credits for a in allocations)
    quota = next((a.units for a in allocations if a.sensor == SANDBOX), 0)
    return CreditsPublic(
        balance=business.credit_balance,
        allocated=allocated,
        remaining=business.credit_balance - allocated,
        allocations=allocations,
        sandbox=SandboxPublic(
            daily_quota=quota, used_today=now.sandbox_used, resets_at=_next_midnight()
        ),
    )


@router.get("/businesses/{business_id}/credits", responses=responses(*BUSINESS_ERRORS))
async def get_credits(
    business: KnownBusinessRow, session: SessionDep, catalog: CatalogDep
) -> CreditsPublic:
    """The balance, what is allocated to which sensor kind, what remains, and today's sandbox
    usage against its quota."""
    return await _credits(session, catalog, business)


@router.put(
    "/businesses/{business_id}/credit-allocations/{sensor}",
    responses=responses(
        *OWNER_ERRORS, *BAD_BODY, CreditError.UNKNOWN_SENSOR, CreditError.EXCEEDS_BALANCE
    ),
)
async def allocate_credits(
    business: KnownBusinessRow,
    sensor: SensorCode,
    body: AllocationSet,
    acting: ActingPrimary,
    session: SessionDep,
    settings: SettingsDep,
    catalog: CatalogDep,
    client: TemporalDep,
) -> CreditsPublic:
    """Set the units allocated to a sensor kind (the primary account); refused when all the
    allocations together would need more credits than the balance."""
    kind = _sensor(catalog, sensor)
    await run_change(
        client,
        settings,
        ALLOCATE_CREDITS,
        AllocateCreditsInput(business.id, sensor, body.units, kind.credits_per_unit),
        business_id=business.id,
        summary=f"Credits for {sensor}: {body.units} {kind.unit}",
    )
    return await _credits(session, catalog, business)


@router.post(
    "/credit-calculator",
    responses=responses(*BUSINESS_ERRORS, *BAD_BODY, CreditError.UNKNOWN_SENSOR),
)
async def calculate_credits(
    body: CalculatorAsk, session: SessionDep, catalog: CatalogDep
) -> CalculatorAnswer:
    """What a set of sensor counts would cost (the Credit Calculator); with `business_id`,
    whether its balance covers it."""
    lines = []
    for code, units in body.sensors.items():
        kind = _sensor(catalog, code)
        lines.append(
            CalculatorLine(
                sensor=code,
                name=kind.name,
                units=units,
                credits_per_unit=kind.credits_per_unit,
                credits=units * kind.credits_per_unit,
            )
        )
    total = sum(line.credits for line in lines)
    answer = CalculatorAnswer(lines=lines, total=total)
    if body.business_id is not None:
        business = await require_business(body.business_id, session)
        answer.balance, answer.enough = business.credit_balance, total <= business.credit_balance
    return answer


@router.post(
    "/businesses/{business_id}/sandbox-submissions",
    status_code=status.HTTP_202_ACCEPTED,
    responses=responses(*BUSINESS_ERRORS, *BAD_BODY, CreditError.QUOTA_EXHAUSTED),
)
async def submit_to_sandbox(
    business: KnownBusinessRow,
    body: SubmissionsAsk,
    session: SessionDep,
    settings: SettingsDep,
    catalog: CatalogDep,
    client: TemporalDep,
) -> SandboxPublic:
    """Count submissions against today's quota (all or none); beyond it, 429 until 00:00 UTC."""
    try:
        await run_change(
            client,
            settings,
            RECORD_SANDBOX_SUBMISSIONS,
            SandboxSubmissionsInput(business.id, body.count),
            business_id=business.id,
            summary=f"Sandbox submissions: {body.count}",
        )
    except ApiError as err:
        if err.code == CreditError.QUOTA_EXHAUSTED.value:
            wait = int((_next_midnight() - datetime.now(UTC)).total_seconds()) + 1
            err.headers = {"Retry-After": str(wait)}
        raise
    return (await _credits(session, catalog, business)).sandbox
