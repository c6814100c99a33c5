"""The schema enforces the invariants retries could break, on both stores."""

from __future__ import annotations

import uuid
from datetime import UTC
from datetime import date
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker

from models.records.domain import Account
from models.records.domain import Business
from models.records.domain import CreditLedgerEntry
from models.records.domain import License
from models.records.domain import Order

pytestmark = pytest.mark.asyncio


def new_id() -> str:
    return str(uuid.uuid4())


async def business(sessions: async_sessionmaker[AsyncSession]) -> str:
    business_id = new_id()
    async with sessions.begin() as session:
        session.add(Business(id=business_id, name="Acme", region="us", credit_balance=0))
    return business_id


def account(business_id: str, email: str, kind: str = "primary") -> Account:
    return Account(id=new_id(), business_id=business_id, email=email, kind=kind, status="active")


async def test_a_business_never_has_two_primary_accounts(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    acme = await business(sessions)
    async with sessions.begin() as session:
        session.add(account(acme, "owner@acme.example"))
        session.add(account(acme, "user@acme.example", kind="local"))
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(account(acme, "second@acme.example"))


async def test_a_primary_address_is_one_identity_in_any_letter_case(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first, second = await business(sessions), await business(sessions)
    async with sessions.begin() as session:
        session.add(account(first, "grace@example.com"))
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(account(second, "Grace@EXAMPLE.com"))
    async with sessions() as session:
        kept = await session.scalar(select(Account).where(Account.email_key == "grace@example.com"))
    assert kept is not None and kept.email == "grace@example.com"


async def test_a_primary_email_signs_in_to_one_business(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first, second = await business(sessions), await business(sessions)
    async with sessions.begin() as session:
        session.add(account(first, "owner@example.com"))
        session.add(account(second, "owner@example.com", kind="local"))  # local: allowed
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(account(second, "owner@example.com"))


async def test_credits_of_one_license_are_added_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    acme = await business(sessions)
    order_id, license_id = new_id(), new_id()
    async with sessions.begin() as session:
        session.add(
            Order(
                id=order_id,
                company_name="Acme",
                contact_email="a@acme.example",
                region="us",
                locale="en",
                status="pending",
                expires_at=datetime(2030, 1, 1, tzinfo=UTC),
            )
        )
        await session.flush()
        session.add(
            License(
                id=license_id,
                order_id=order_id,
                product_code="xdr-credits",
                kind="credits",
                credits=500,
                expires_on=date(2031, 1, 1),
                status="issued",
            )
        )
        await session.flush()
        session.add(
            CreditLedgerEntry(
                business_id=acme, license_id=license_id, amount=500, expires_on=date(2031, 1, 1)
            )
        )
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(
                CreditLedgerEntry(
                    business_id=acme, license_id=license_id, amount=500, expires_on=date(2031, 1, 1)
                )
            )
