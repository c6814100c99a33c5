"""The license certificate of an order's on-premises items (docs/on-premises.md): no account, no
instance. Each item gets an Activation Code, whose seats its own flow holds from then on; the
contact is mailed the certificate with the codes and a link to its printable page.

Steps: issue the codes; start each code's flow; mail the certificate.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.on_premises import OnPremisesActivities as Steps
    from models.contracts.on_premises import CERTIFICATE_WORKFLOW
    from models.contracts.on_premises import CODE_KIND
    from models.contracts.on_premises import CertificateState
    from models.contracts.on_premises import CertificateStatus
    from models.contracts.on_premises import CodeStatus
    from models.contracts.on_premises import IssuedCode
    from models.contracts.on_premises import SendCertificateInput
    from models.contracts.on_premises import StartCertificateInput
    from models.contracts.on_premises import StartCodeInput
    from models.contracts.on_premises import code_flow_id
    from models.contracts.on_premises import code_summary
    from workflows.children import start_child_flow
    from workflows.license_code import LicenseCodeWorkflow
    from workflows.publishing import publish
    from workflows.publishing import publish_status
    from workflows.steps import run_step
    from workflows.steps import send_mail

# The certificate mail is retried this long (the codes work either way; operators see it).
CERTIFICATE_DEADLINE = timedelta(days=1)


@workflow.defn(name=CERTIFICATE_WORKFLOW)
class LicenseCertificateWorkflow:
    @workflow.init
    def __init__(self, input: StartCertificateInput) -> None:
        self._input = input
        self._status = CertificateStatus.ISSUING
        self._codes: list[IssuedCode] = []
        self._codes_hold_seats = False

    @workflow.run
    async def run(self, input: StartCertificateInput) -> CertificateState:
        publish(self._state())
        self._codes = await run_step(Steps.issue_codes, input)
        for code in self._codes:
            await self._hold_seats(code)
        self._codes_hold_seats = True
        publish(self._state())
        await send_mail(
            Steps.send_certificate,
            SendCertificateInput(input.order_id, input.contact_email, input.locale),
            details="The license certificate email could not be sent.",
            deadline=CERTIFICATE_DEADLINE,
        )
        self._status = CertificateStatus.ISSUED
        publish_status(self._status.value, self._state())
        return self._state()

    @workflow.update
    async def describe(self) -> CertificateState:
        """Sent with the start: answers once every code can be activated."""
        await workflow.wait_condition(lambda: self._codes_hold_seats)
        return self._state()

    async def _hold_seats(self, code: IssuedCode) -> None:
        """The code's own flow, which outlives the certificate (for the code's whole term)."""
        input = self._input
        seats = StartCodeInput(
            code=code,
            order_id=input.order_id,
            business_id=input.business_id,
            company_name=input.company_name,
            file_ttl_days=input.file_ttl_days,
            deactivations_per_day=input.deactivations_per_day,
            contact_email=input.contact_email,
            locale=input.locale,
            reminder_days=input.reminder_days,
        )
        await start_child_flow(
            LicenseCodeWorkflow.run,
            seats,
            flow_id=code_flow_id(code.code_id),
            kind=CODE_KIND,
            status=CodeStatus.ACTIVE.value,
            summary=code_summary(seats),
            business_id=input.business_id,
            outlives_parent=True,
        )

    def _state(self) -> CertificateState:
        return CertificateState(
            id=self._input.order_id,
            business_id=self._input.business_id,
            status=self._status,
            codes=list(self._codes),
        )
