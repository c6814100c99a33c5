"""Side effects of provisioning in the vendor's product (docs/provisioning.md): each instance an
order creates or changes is PUT to its product's backend (the new ones first), the answers
kept on the instance's row; the new ones are deleted there if the activation is undone; an
instance the backend is still setting up is asked at its status URL; an expired license's
instance is told. Instances of a product without a backend are left as rows, as before."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.mail import heartbeating
from activities.product_backend import ProductBackend
from core.settings import Settings
from models.contracts.license_activation import LicenseItem
from models.contracts.license_activation import ProvisionInput
from models.contracts.provisioning import InstanceAnswer
from models.contracts.provisioning import InstanceStatus
from models.contracts.provisioning import LicenseInstanceInput
from models.contracts.provisioning import PendingInstance
from models.contracts.provisioning import PollInput
from models.contracts.provisioning import ProductAnswers
from models.contracts.provisioning import RecordAnswersInput
from models.records.domain import License
from models.records.domain import ProductInstance


def new_instances(items: list[LicenseItem]) -> list[str]:
    """The instances this order creates (not a renewal's or a conversion's)."""
    return [
        item.instance_id
        for item in items
        if item.kind == "service" and item.replaces is None and item.instance_id
    ]


def touched_instances(items: list[LicenseItem]) -> list[str]:
    """Every instance the order creates or changes, the new ones first (so a refusal of one
    of them comes before any existing instance was changed)."""
    changed = [item.instance_id for item in items if item.kind != "credits" and item.instance_id]
    return list(dict.fromkeys([*new_instances(items), *changed]))


class ProvisioningActivities:
    def __init__(
        self,
        settings: Settings,
        session_factory: async_sessionmaker[AsyncSession],
        backend: ProductBackend,
    ) -> None:
        self._settings = settings
        self._sessions = session_factory
        self._backend = backend

    def activities(self) -> list[Callable[..., Any]]:
        """What the worker registers: each bound activity method of this class."""
        return [
            self.provision_in_product,
            self.deprovision_in_product,
            self.poll_instances,
            self.record_instances,
            self.sync_license_instance,
        ]

    @activity.defn(name="provisioning.provision_in_product")
    async def provision_in_product(self, input: ProvisionInput) -> ProductAnswers:
        """PUT each instance the order creates or changes, each answer kept on its row as it
        comes. A retry calls again with the same idempotency key (the backend does the work
        once); a refusal fails the step for good."""
        async with heartbeating():
            answers = ProductAnswers(
                poll_seconds=self._settings.provisioning_poll_seconds,
                wait_seconds=self._settings.provisioning_wait_minutes * 60,
            )
            callback = (
                f"{self._settings.public_base_url.rstrip('/')}/v1/provisioning/callbacks/"
                f"{input.order_id}"
            )
            for instance_id in touched_instances(input.items):
                async with self._sessions() as session:
                    instance = await session.get(ProductInstance, instance_id)
                    call = await self._backend.call_for(session, instance) if instance else None
                if call is None:
                    continue
                call.document["callback_url"] = callback
                # A refusal leaves its instance unmarked: nothing there to delete.
                answer = await self._backend.put(call)
                if isinstance(answer, PendingInstance):
                    await self._record(InstanceAnswer(instance_id, InstanceStatus.PENDING))
                    answers.pending.append(answer)
                else:
                    await self._record(answer)
                    answers.ready.append(answer)
            return answers

    @activity.defn(name="provisioning.deprovision_in_product")
    async def deprovision_in_product(self, input: ProvisionInput) -> None:
        """Undo: DELETE each instance this order created there (ready or still being set up);
        each is marked `deleted`, so a retry does not call again for it. A backend that refuses
        the deletion is logged for operators; the undo goes on."""
        async with heartbeating():
            for instance_id in new_instances(input.items):
                async with self._sessions() as session:
                    instance = await session.get(ProductInstance, instance_id)
                    if instance is None or instance.provisioning not in ("ready", "pending"):
                        continue
                    call = await self._backend.call_for(session, instance)
                if call is not None:
                    try:
                        await self._backend.delete(call)
                    except ApplicationError as err:
                        if not err.non_retryable:
                            raise
                        activity.logger.warning("not deleted in the product: %s", err.message)
                await self._mark(instance_id, "deleted")

    @activity.defn(name="provisioning.poll_instances")
    async def poll_instances(self, input: PollInput) -> list[InstanceAnswer]:
        """Ask each pending instance's status URL; the ones that are done (ready or failed).
        A status URL that does not answer now is asked again at the next poll."""
        async with heartbeating():
            done = []
            for pending in input.pending:
                if pending.status_url is None:
                    continue
                try:
                    answer = await self._backend.status(pending)
                except ApplicationError as err:
                    activity.logger.info("status of %s: %s", pending.instance_id, err.message)
                    continue
                if answer.status != InstanceStatus.PENDING:
                    done.append(answer)
            return done

    @activity.defn(name="provisioning.record_instances")
    async def record_instances(self, input: RecordAnswersInput) -> None:
        """Keep the answers that came later (by callback or status URL) on their instances."""
        for answer in input.answers:
            await self._record(answer)

    @activity.defn(name="provisioning.sync_license_instance")
    async def sync_license_instance(self, input: LicenseInstanceInput) -> None:
        """A license's term ended (or changed outside an order): its instance is PUT as it is
        now (suspended, or without the add-on). A refusal is logged; the license stays as the
        lifecycle left it."""
        async with heartbeating():
            async with self._sessions() as session:
                license = await session.get(License, input.license_id)
                instance = (
                    await session.get(ProductInstance, license.instance_id or "")
                    if license
                    else None
                )
                if instance is None or instance.provisioning not in ("ready", "pending"):
                    return
                call = await self._backend.call_for(session, instance)
            if call is None:
                return
            try:
                await self._backend.put(call)
            except ApplicationError as err:
                if not err.non_retryable:
                    raise
                activity.logger.warning("the product was not told: %s", err.message)

    async def _record(self, answer: InstanceAnswer) -> None:
        status = {InstanceStatus.FAILED: "refused"}.get(answer.status, answer.status.value)
        async with self._sessions.begin() as session:
            instance = await session.get(ProductInstance, answer.instance_id)
            if instance is None:
                return
            instance.provisioning = status
            if answer.console_url:
                instance.console_url = answer.console_url
            if answer.external_id:
                instance.external_id = answer.external_id

    async def _mark(self, instance_id: str, status: str) -> None:
        async with self._sessions.begin() as session:
            instance = await session.get(ProductInstance, instance_id)
            if instance is not None:
                instance.provisioning = status
