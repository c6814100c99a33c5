"""The error contract: every refusal declared once, with one status per code."""

from __future__ import annotations

from collections import defaultdict

import api.errors  # noqa: F401 (declares the API's own errors)
import models.contracts.email_verification  # noqa: F401
import models.contracts.license_activation  # noqa: F401
import models.contracts.local_accounts  # noqa: F401
import models.contracts.ownership_transfer  # noqa: F401
import models.contracts.product_registration  # noqa: F401
from api.errors import ApiError
from models.errors import VerificationError
from models.errors import all_errors
from models.errors import find


def test_a_code_shared_by_flows_has_one_status() -> None:
    statuses: dict[str, set[int]] = defaultdict(set)
    for error in all_errors():
        statuses[error.value].add(error.status)
    assert {code: s for code, s in statuses.items() if len(s) > 1} == {}
    assert len(statuses) > 60


def test_every_error_says_what_happened_and_is_a_4xx_or_a_503_to_repeat() -> None:
    for error in all_errors():
        assert error.message and error.message[0].islower(), error
        assert 400 <= error.status < 500 or (error.status == 503 and error.retry_after), error


def test_an_answer_carries_the_declared_status_code_and_retry_after() -> None:
    assert find("link_not_ready") is VerificationError.LINK_NOT_READY
    answer = ApiError(VerificationError.LINK_NOT_READY)
    assert (answer.status, answer.code, answer.headers) == (
        503,
        "link_not_ready",
        {"Retry-After": "5"},
    )
    assert ApiError(VerificationError.EXPIRED, "gone since noon").message == "gone since noon"
    assert find("no_such_code") is None
