"""The steps of on-premises licenses (docs/on-premises.md): issue an order's Activation Codes and
mail the certificate; sign license files; record each change of a seat, with the agreement the
installation accepted; close a code. Each is idempotent: a retry finds what its first try wrote."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity

from activities.base import FlowActivities
from activities.base import add_once
from activities.mail import Mail
from activities.mail import MailSender
from activities.mail import mail_key
from core.license_codes import codes_sealer
from core.license_codes import hash_code
from core.license_codes import new_code
from core.settings import Settings
from core.tokens import random_key
from models.catalog import Catalog
from models.contracts.on_premises import CodeReminderInput
from models.contracts.on_premises import IssuedCode
from models.contracts.on_premises import RecordInstallationInput
from models.contracts.on_premises import SaveCodeInput
from models.contracts.on_premises import SendCertificateInput
from models.contracts.on_premises import SignInput
from models.contracts.on_premises import StartCertificateInput
from models.records.domain import Business
from models.records.events import record_event
from models.records.on_premises import Installation
from models.records.on_premises import InstallationEvent
from models.records.on_premises import LicenseCode
from models.records.on_premises import codes_of_order
from models.records.on_premises import company_of

CERTIFICATE_TEMPLATE = "license_certificate"
REMINDER_TEMPLATE = "license_expiring"  # the cloud licenses' reminder, its on-premises words


class OnPremisesActivities(FlowActivities):
    def __init__(
        self,
        settings: Settings,
        session_factory: async_sessionmaker[AsyncSession],
        mail: MailSender,
        catalog: Catalog,
    ) -> None:
        super().__init__(settings, session_factory, mail)
        self._sealer = codes_sealer(settings)
        self._keys = settings.license_keys()  # the signing key: in the worker's memory only
        self._catalog = catalog  # product names in each language

    def activities(self) -> list[Callable[..., Any]]:
        """What the worker registers: each bound activity method of these flows."""
        return [
            self.issue_codes,
            self.send_certificate,
            self.sign_license_file,
            self.record_installation,
            self.save_code,
            self.send_reminder,
        ]

    @activity.defn(name="on_premises.issue_codes")
    async def issue_codes(self, input: StartCertificateInput) -> list[IssuedCode]:
        """One Activation Code per item, made here so that only its hash leaves; with the
        order's Business (a company without an account yet). A retry finds the codes."""
        async with self._sessions.begin() as session:
            await add_once(
                session, Business(id=input.business_id, name=input.company_name, region="")
            )
            codes = await codes_of_order(session, input.order_id)
            for position, item in enumerate(input.items[len(codes) :], len(codes)):
                code, code_id = new_code(), random_key()
                row = LicenseCode(
                    id=code_id,
                    order_id=input.order_id,
                    business_id=input.business_id,
                    position=position,
                    product_code=item.product_code,
                    seats=item.seats,
                    expires_on=date.fromisoformat(item.expires_on),
                    code_hash=hash_code(code),
                    sealed_code=self._sealer.seal(code.encode(), code_id),
                    status="active",
                    locale=input.locale,
                )
                session.add(row)
                codes.append(row)
        return [
            IssuedCode(row.id, row.code_hash, row.product_code, row.seats,
                       row.expires_on.isoformat())
            for row in codes
        ]  # fmt: skip

    @activity.defn(name="on_premises.send_certificate")
    async def send_certificate(self, input: SendCertificateInput) -> bool:
        """The certificate mail: each product, its seats, term and Activation Code, and a link
        to the printable certificate. Stored (sealed) before it is sent, once per flow run."""
        async with self._sessions() as session:
            rows = await codes_of_order(session, input.order_id)
            company = await company_of(session, rows)
        context = {
            "company_name": company,
            "offline_page": f"{self._settings.public_base_url.rstrip('/')}/offline-activation",
            "codes": [
                {
                    "product": row.product_code,
                    "seats": row.seats,
                    "expires_on": row.expires_on.isoformat(),
                    "code": self._sealer.open(row.sealed_code, row.id).decode(),
                }
                for row in rows
            ],  # fmt: skip
        }
        await self.mail_link(
            "certificate",
            "certificate",
            Mail(CERTIFICATE_TEMPLATE, input.to, input.locale, context),
        )
        return True

    @activity.defn(name="on_premises.sign_license_file")
    async def sign_license_file(self, input: SignInput) -> str:
        """The license file for one installation, signed with the current key (the key stays
        in this process; the file is public: it proves, it does not unlock)."""
        return self._keys.sign(
            {
                "iss": self._settings.public_base_url.rstrip("/"),
                "sub": input.code_id,
                "product": input.product_code,
                "seats": input.seats,
                "business": input.company_name,
                "fingerprint": input.fingerprint,
                "iat": calendar.timegm(input.issued_at.utctimetuple()),
                "nbf": calendar.timegm(input.issued_at.utctimetuple()),
                "exp": calendar.timegm(input.valid_until.utctimetuple()),
                "term_ends_on": input.term_ends_on,
                "agreement": {"id": input.agreement_id, "version": input.agreement_version},
            }
        )

    @activity.defn(name="on_premises.record_installation")
    async def record_installation(self, input: RecordInstallationInput) -> None:
        """The seat's change, and its place in the audit (once: its number is its key)."""
        async with self._sessions.begin() as session:
            event = InstallationEvent(
                code_id=input.code_id,
                number=input.number,
                event=input.event,
                fingerprint=input.fingerprint,
                at=input.at,
                client_address=input.client_address,
            )
            if not await add_once(session, event):
                return
            code = await session.get(LicenseCode, input.code_id)
            if code is not None and input.event != "refreshed":
                data = {"code_id": code.id, "product_code": code.product_code,
                        "fingerprint": input.fingerprint, "offline": input.offline}  # fmt: skip
                key = f"installation.{input.event}:{code.id}:{input.number}"
                await record_event(
                    session, f"installation.{input.event}", key, code.business_id, data, input.at
                )
            row = await session.scalar(
                select(Installation).where(
                    Installation.code_id == input.code_id,
                    Installation.fingerprint == input.fingerprint,
                )
            )
            if input.event == "deactivated":
                if row is not None:
                    row.active, row.deactivated_at = False, input.at
                return
            if row is None:
                row = Installation(code_id=input.code_id, fingerprint=input.fingerprint)
                session.add(row)
            if input.event == "activated" or not row.active:
                row.activated_at, row.deactivated_at = input.at, None
            row.active, row.offline = True, input.offline
            row.agreement_id = input.agreement_id or row.agreement_id
            row.agreement_version = input.agreement_version or row.agreement_version
            row.client_address = input.client_address

    @activity.defn(name="on_premises.save_code")
    async def save_code(self, input: SaveCodeInput) -> None:
        """The code's status (active, expired, revoked) and its term (renewed)."""
        async with self._sessions.begin() as session:
            code = await session.get(LicenseCode, input.code_id)
            if code is None:
                return
            renewed = input.expires_on > code.expires_on.isoformat()
            code.status, code.expires_on = input.status, date.fromisoformat(input.expires_on)
            event = "license_code.revoked" if input.status == "revoked" else None
            if renewed:
                event = "license_code.renewed"
            if event is not None:
                data = {"code_id": code.id, "product_code": code.product_code,
                        "seats": code.seats, "expires_on": input.expires_on}  # fmt: skip
                key = f"{event}:{code.id}:{input.expires_on}"
                await record_event(session, event, key, code.business_id, data)

    @activity.defn(name="on_premises.send_reminder")
    async def send_reminder(self, input: CodeReminderInput) -> None:
        """A renewal reminder, unless the code was renewed or revoked since (it would not be
        true any more); once per term and day."""
        async with self._sessions() as session:
            code = await session.get(LicenseCode, input.code_id)
        if code is None or (code.status, code.expires_on.isoformat()) != (
            "active",
            input.expires_on,
        ):
            return
        context = {
            "company_name": input.company_name,
            "product_name": self._catalog.product(input.product_code).name_in(input.locale),
            "kind": "on-premises",
            "trial": False,
            "amount": input.seats,
            "expires_on": input.expires_on,
            "days_left": input.days_left,
            "support": self._settings.support_contact,
        }
        key = mail_key(f"reminder/{input.expires_on}/{input.days_left}")
        await self._mail.send(key, Mail(REMINDER_TEMPLATE, input.to, input.locale, context))
