"""The names of the service's own metrics (docs/operations.md), shared by the code that records
them and the runtime that exports them."""

FLOW_STATUS = "activation_flow_status"  # counter: flows reaching a status, by flow and status
FLOW_TIME = "activation_flow_time_to_status"  # histogram (ms): from a flow's start to a status
MAILS = "activation_mails"  # counter: mails by template and outcome
WEBHOOK_ATTEMPTS = "activation_webhook_attempts"  # counter: delivery attempts, by outcome
PROVISIONING_CALLS = "activation_provisioning_calls"  # counter: by product, method and answer
