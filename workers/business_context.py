"""The Business a flow serves, on the log lines and trace spans of its activities, so that an
operator who has a Business id finds what the service did for it.

A flow knows its Business from its `BusinessId` search attribute (set at start, or once the
customer's account is known). Each activity it schedules carries that id in a header (plain: it
is an opaque id, already visible in the Web UI), and the activity puts it on its trace span and
its log lines. A flow's own log lines take it from the flow's info. JSON log lines show it
(`core.logging.JsonLines`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from opentelemetry import trace
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadConverter
from temporalio.worker import ActivityInboundInterceptor
from temporalio.worker import ExecuteActivityInput
from temporalio.worker import Interceptor
from temporalio.worker import StartActivityInput
from temporalio.worker import StartLocalActivityInput
from temporalio.worker import WorkflowInboundInterceptor
from temporalio.worker import WorkflowInterceptorClassInput
from temporalio.worker import WorkflowOutboundInterceptor

from models.contracts.search_attributes import BUSINESS_ID

HEADER = "activation-business-id"
SPAN_ATTRIBUTE = "activation.business_id"
_activity_business: ContextVar[str | None] = ContextVar("activity_business", default=None)


class BusinessContext(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityWithBusiness(next)

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return _FlowWithBusiness


class _FlowWithBusiness(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_ActivitiesGetTheBusiness(outbound))


class _ActivitiesGetTheBusiness(WorkflowOutboundInterceptor):
    def start_activity(self, input: StartActivityInput) -> workflow.ActivityHandle[Any]:
        input.headers = _with_business(input.headers)
        return super().start_activity(input)

    def start_local_activity(self, input: StartLocalActivityInput) -> workflow.ActivityHandle[Any]:
        input.headers = _with_business(input.headers)
        return super().start_local_activity(input)


def _with_business(headers: Mapping[str, Payload]) -> Mapping[str, Payload]:
    business = workflow.info().typed_search_attributes.get(BUSINESS_ID)
    if business is None:
        return headers
    return {**headers, HEADER: PayloadConverter.default.to_payload(business)}


class _ActivityWithBusiness(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        header = input.headers.get(HEADER)
        business = PayloadConverter.default.from_payload(header, str) if header else None
        if business is not None:
            trace.get_current_span().set_attribute(SPAN_ATTRIBUTE, business)
        token = _activity_business.set(business)
        try:
            return await super().execute_activity(input)
        finally:
            _activity_business.reset(token)


class BusinessOnLogLines(logging.Filter):
    """Adds `business_id` to a flow's lines and its activities' (None elsewhere)."""

    def filter(self, record: logging.LogRecord) -> bool:
        info = getattr(record, "workflow_info", None)  # with full_workflow_info_on_extra
        if isinstance(info, workflow.Info):
            record.business_id = info.typed_search_attributes.get(BUSINESS_ID)
        else:
            record.business_id = _activity_business.get()
        return True


def business_on_log_lines() -> BusinessOnLogLines:
    """The filter, with the flows' loggers told to hand it their flow's info."""
    workflow.logger.full_workflow_info_on_extra = True
    return BusinessOnLogLines()
