"""The worker: runs every workflow and activity of the service on one task queue."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxRestrictions

from activities.account_lookup import AccountLookupActivities
from activities.credits import CreditActivities
from activities.email_verification import EmailVerificationActivities
from activities.license_activation import LicenseActivationActivities
from activities.license_lifecycle import LicenseLifecycleActivities
from activities.local_accounts import LocalAccountActivities
from activities.mail import MailSender
from activities.on_premises import OnPremisesActivities
from activities.ownership_transfer import OwnershipTransferActivities
from activities.primary_change import PrimaryChangeActivities
from activities.product_backend import ProductBackend
from activities.product_registration import ProductRegistrationActivities
from activities.provisioning import ProvisioningActivities
from activities.webhooks import WebhookActivities
from core import tracing
from core.outbound import Outbound
from core.outbound import OutboundPolicy
from core.settings import Settings
from core.temporal import connect
from models.catalog import catalog_for
from models.records.base import make_engine
from models.records.base import make_session_factory
from workers.business_context import BusinessContext
from workers.event_relay import EventRelay
from workers.schedules import ensure_reset_schedule
from workflows.account_lookup import AccountLookupWorkflow
from workflows.direct_change import DirectChangeWorkflow
from workflows.email_verification import EmailVerificationWorkflow
from workflows.license_activation import LicenseActivationWorkflow
from workflows.license_certificate import LicenseCertificateWorkflow
from workflows.license_code import LicenseCodeWorkflow
from workflows.license_lifecycle import LicenseLifecycleWorkflow
from workflows.local_accounts import LocalAccountActivationWorkflow
from workflows.ownership_transfer import OwnershipTransferWorkflow
from workflows.primary_change import PrimaryChangeWorkflow
from workflows.product_registration import ProductRegistrationWorkflow
from workflows.sandbox_quota import SandboxQuotaResetWorkflow
from workflows.webhook_delivery import WebhookDelivery
from workflows.webhook_delivery import WebhookReplay

log = logging.getLogger(__name__)

WORKFLOWS = [
    EmailVerificationWorkflow,
    LicenseActivationWorkflow,
    ProductRegistrationWorkflow,
    LocalAccountActivationWorkflow,
    OwnershipTransferWorkflow,
    DirectChangeWorkflow,
    AccountLookupWorkflow,
    PrimaryChangeWorkflow,
    SandboxQuotaResetWorkflow,
    LicenseLifecycleWorkflow,
    WebhookDelivery,
    WebhookReplay,
    LicenseCertificateWorkflow,
    LicenseCodeWorkflow,
]


def workflow_runner() -> SandboxedWorkflowRunner:
    """Modules are not re-imported for each workflow run (the costliest part of starting a run);
    calls that break determinism are still refused inside the sandbox. Workflow modules must
    therefore keep no mutable module-level state. The replay tests use the same runner."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_all_modules()
    )


def build_worker(
    client: Client,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    *,
    task_queue: str | None = None,
) -> Worker:
    mail = MailSender(settings, sessions)
    verification = EmailVerificationActivities(settings, sessions, mail)
    activation = LicenseActivationActivities(settings, sessions, mail)
    registration = ProductRegistrationActivities(sessions)
    local_accounts = LocalAccountActivities(settings, sessions, mail)
    transfers = OwnershipTransferActivities(settings, sessions, mail)
    lookups = AccountLookupActivities(settings, sessions, mail)
    primary_changes = PrimaryChangeActivities(settings, sessions, mail)
    credits = CreditActivities(settings, sessions, mail)
    lifecycles = LicenseLifecycleActivities(settings, sessions, mail)
    webhooks = WebhookActivities(settings, sessions, mail, outbound_of(settings))
    catalog = catalog_for(settings)
    backend = ProductBackend(settings, catalog, outbound_of(settings, provisioning=True))
    provisioning = ProvisioningActivities(settings, sessions, backend)
    on_premises = OnPremisesActivities(settings, sessions, mail, catalog)
    return Worker(
        client,
        task_queue=task_queue or settings.temporal_task_queue,
        workflows=WORKFLOWS,
        activities=[
            *verification.activities(),
            *activation.activities(),
            *registration.activities(),
            *local_accounts.activities(),
            *transfers.activities(),
            *lookups.activities(),
            *primary_changes.activities(),
            *credits.activities(),
            *lifecycles.activities(),
            *webhooks.activities(),
            *provisioning.activities(),
            *on_premises.activities(),
        ],
        workflow_runner=workflow_runner(),
        interceptors=[BusinessContext()],  # the Business on activities' log lines and spans
        # Let in-flight activities finish (they are short) before the process exits.
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_shutdown_grace_seconds),
    )


def outbound_of(settings: Settings, *, provisioning: bool = False) -> Outbound:
    """A client that calls the vendor's systems (its webhook receivers, or its product
    backends), under production's address rules unless in development (core/outbound.py)."""
    policy = OutboundPolicy(development=settings.is_development)
    if provisioning:
        return Outbound(policy, settings.provisioning_timeout_seconds)
    return Outbound(policy, settings.webhook_timeout_seconds)


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or `stop`), then drain in-flight activities and exit."""
    stop = stop or _stop_on_signals()
    engine = make_engine(settings.database_url)
    tracing.instrument(engine)
    client = await connect(
        settings, metrics=True, wait_seconds=settings.worker_connect_wait_seconds
    )
    sessions = make_session_factory(engine)
    worker = build_worker(client, settings, sessions)
    await ensure_reset_schedule(client, settings.temporal_task_queue)
    log.info("worker polling task queue %s", settings.temporal_task_queue)
    relay = asyncio.create_task(EventRelay(client, sessions, settings).run())
    async with worker:
        await stop.wait()
        log.info("worker shutting down")
        relay.cancel()
    await engine.dispose()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
