"""Custom search attributes: operators find any flow by kind, status and Business.

Registered when the dev server starts (`--search-attribute`) and in docker-compose.

See docs/architecture.md.
"""

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey

ACTIVATION_FLOW = SearchAttributeKey.for_keyword("ActivationFlow")
ACTIVATION_STATUS = SearchAttributeKey.for_keyword("ActivationStatus")
BUSINESS_ID = SearchAttributeKey.for_keyword("BusinessId")
# Set when a flow hit a problem an operator should look at (e.g. `mail_unbuildable`).
ACTIVATION_PROBLEM = SearchAttributeKey.for_keyword("ActivationProblem")

ALL = (ACTIVATION_FLOW, ACTIVATION_STATUS, BUSINESS_ID, ACTIVATION_PROBLEM)


async def register(client: Client, namespace: str) -> None:
    """Register the attributes on a server that did not get them at start (e.g. the test server)."""
    await client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=namespace,
            search_attributes={
                key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for key in ALL
            },
        )
    )
