"""Custom search attributes: operators find any flow by kind, status and Business (DESIGN.md §5.4).

Registered when the dev server starts (`--search-attribute`) and in docker-compose.
"""

from temporalio.common import SearchAttributeKey

ACTIVATION_FLOW = SearchAttributeKey.for_keyword("ActivationFlow")
ACTIVATION_STATUS = SearchAttributeKey.for_keyword("ActivationStatus")
BUSINESS_ID = SearchAttributeKey.for_keyword("BusinessId")

ALL = (ACTIVATION_FLOW, ACTIVATION_STATUS, BUSINESS_ID)
