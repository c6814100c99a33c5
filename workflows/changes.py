"""The changes to the flows' code that a flow already running must not see, and the release that
stands for them (docs/operations.md, "Upgrading while flows run for months").

A change goes behind `workflow.patched(<its id>)`, so that a flow started before it replays
without it. For a flow that takes a change, Temporal's SDK records a marker and upserts the
`TemporalChangeVersion` search attribute the first time the flow asks: two billable Actions (the
server counts both), and a new customer's license activation asked five changes. So the changes
made up to a release are asked through `taken`: a flow started by a build that has the release
takes them all, for one marker and one upsert; a flow started before it asks each change, as it
did.
A change made after a release is asked with `workflow.patched` until a next release lists it.
"""

from __future__ import annotations

from temporalio import workflow

# What a flow started before each change did instead:
# it created an account after the sign-up's verification (newer ones first look for a primary
# account with the address: the customer's pages sign it in that way);
SIGNUP_SIGNS_IN = "signup-signs-in-existing-primary"
# it provisioned every service license a new instance (no renewals);
RENEWALS = "renewals-and-trial-conversions"
# it offered an instance to an add-on that a renewal in the same order would never create;
RENEWALS_KEEP_INSTANCES = "renewal-offers-no-new-instance"
# its provisioning made rows only (nothing in the vendor's product);
IN_PRODUCT = "provisioning-in-the-vendors-product"
# it was activated before lifecycles existed (it starts none);
LICENSE_LIFECYCLES = "license-lifecycles"
# its lifecycle ended with `expire`, whatever the database said by then;
RENEWABLE = "license-lifecycle-renewable"
# its lifecycle did not tell the vendor's product of an expiry;
SUSPEND_IN_PRODUCT = "expiry-reaches-the-vendors-product"
# a repeat of a registration while the first ran was refused as "used" (it waits now);
REPEAT_WAITS = "register-repeat-waits"
# a mail that could not go out set no `ActivationProblem`;
PROBLEM_ATTRIBUTE = "activation-problem-attribute"
# its Business was upserted on its own (an Action more), not with the status.
BUSINESS_WITH_STATUS = "business-id-with-the-status"

RELEASE = "release-2026-12"
RELEASED = frozenset({
    SIGNUP_SIGNS_IN, RENEWALS, RENEWALS_KEEP_INSTANCES, IN_PRODUCT, LICENSE_LIFECYCLES,
    RENEWABLE, SUSPEND_IN_PRODUCT, REPEAT_WAITS, PROBLEM_ATTRIBUTE, BUSINESS_WITH_STATUS,
})  # fmt: skip


# Changes after the release, asked with `workflow.patched`:
# a verification cancelled while its link was being sent ended as Cancelled, recording nothing.
CANCELLED_WHILE_SENDING = "verification-cancelled-while-sending"


def taken(change: str) -> bool:
    """Whether this flow runs with `change` (one of RELEASED). The SDK remembers each answer
    for the rest of the run, so the release is asked once however often this is called."""
    if change not in RELEASED:
        raise ValueError(f"{change} came after {RELEASE}: ask workflow.patched")
    return workflow.patched(RELEASE) or workflow.patched(change)
