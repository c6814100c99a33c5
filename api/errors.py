"""Domain errors as JSON `{code, message}` with a stable code; never a 500 for bad input."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException


class ErrorCode(StrEnum):
    INVALID_REQUEST = "invalid_request"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    MISSING_API_KEY = "missing_api_key"
    INVALID_API_KEY = "invalid_api_key"
    TEMPORAL_UNAVAILABLE = "temporal_unavailable"
    MAIL_RATE_LIMITED = "mail_rate_limited"
    VERIFICATION_NOT_FOUND = "verification_not_found"
    VERIFICATION_NOT_PENDING = "verification_not_pending"
    VERIFICATION_EXPIRED = "verification_expired"
    VERIFICATION_LOCKED = "verification_locked"
    RESEND_COOLDOWN = "resend_cooldown"
    RESEND_LIMIT_REACHED = "resend_limit_reached"
    TOKEN_INVALID = "token_invalid"
    LINK_NOT_READY = "link_not_ready"
    INVALID_ORDER = "invalid_order"
    ORDER_NOT_FOUND = "order_not_found"
    ORDER_NOT_RECORDED = "order_not_recorded"
    ORDER_REFERENCE_CONFLICT = "order_reference_conflict"
    DATABASE_UNAVAILABLE = "database_unavailable"
    ACTIVATION_NOT_FOUND = "activation_not_found"
    ACTIVATION_COMPLETED = "activation_completed"
    ACTIVATION_EXPIRED = "activation_expired"
    ACTIVATION_CLOSED = "activation_closed"
    ACTIVATION_WRONG_STEP = "activation_wrong_step"
    ACCOUNT_NOT_FOUND = "account_not_found"
    ACCOUNT_EXISTS = "account_exists"
    NO_INSTANCE_FOR_ADDON = "no_instance_for_addon"
    AGREEMENTS_INVALID = "agreements_invalid"
    INSTANCE_CHOICE_INVALID = "instance_choice_invalid"
    BUSINESS_NOT_FOUND = "business_not_found"
    NOT_PRIMARY_ACCOUNT = "not_primary_account"
    UNKNOWN_INSTANCE_TYPE = "unknown_instance_type"
    ENROLLMENT_TOKEN_NOT_FOUND = "enrollment_token_not_found"
    ENROLLMENT_TOKEN_INVALID = "enrollment_token_invalid"
    ENROLLMENT_TOKEN_USED = "enrollment_token_used"
    ENROLLMENT_TOKEN_EXPIRED = "enrollment_token_expired"
    ENROLLMENT_TOKEN_REVOKED = "enrollment_token_revoked"
    ENROLLMENT_TOKEN_NOT_ACTIVE = "enrollment_token_not_active"
    ENROLLMENT_TOKEN_NOT_RECORDED = "enrollment_token_not_recorded"
    BUSINESS_MISMATCH = "enrollment_token_business_mismatch"
    INSTANCE_TYPE_MISMATCH = "instance_type_mismatch"
    INSTANCE_NOT_FOUND = "instance_not_found"
    LOCAL_ACCOUNT_LIMIT_REACHED = "local_account_limit_reached"
    LOCAL_ACCOUNT_EXISTS = "local_account_exists"
    LOCAL_ACCOUNT_ALREADY_ACTIVE = "local_account_already_active"
    INVITATION_TOKEN_INVALID = "invitation_token_invalid"
    INVITATION_LAPSED = "invitation_lapsed"
    INVITATION_CANCELLED = "invitation_cancelled"
    INVITATION_NOT_RECORDED = "invitation_not_recorded"
    PRIMARY_ACCOUNT_IMMUTABLE = "primary_account_immutable"
    ACCOUNT_PENDING = "account_pending"
    ACCOUNT_CLOSED = "account_closed"
    OWNERSHIP_TRANSFER_NOT_FOUND = "ownership_transfer_not_found"
    OWNERSHIP_TRANSFER_PENDING = "ownership_transfer_pending"
    OWNERSHIP_TRANSFER_COMPLETED = "ownership_transfer_completed"
    OWNERSHIP_TRANSFER_DECLINED = "ownership_transfer_declined"
    OWNERSHIP_TRANSFER_CANCELLED = "ownership_transfer_cancelled"
    OWNERSHIP_TRANSFER_EXPIRED = "ownership_transfer_expired"
    OWNERSHIP_TRANSFER_FAILED = "ownership_transfer_failed"
    OWNERSHIP_TRANSFER_NOT_RECORDED = "ownership_transfer_not_recorded"
    TRANSFER_TARGET_NOT_FOUND = "transfer_target_not_found"
    TRANSFER_TARGET_NOT_ELIGIBLE = "transfer_target_not_eligible"
    TRANSFER_TOKEN_INVALID = "transfer_token_invalid"


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.details = details


def error_response(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    details: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    body = ErrorBody(code=code, message=message, details=details)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the error statuses an endpoint can return."""
    return {status: {"model": ErrorBody} for status in statuses}


_HTTP_CODES = {
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Only where and what, never the rejected input: it may be a token.
        details = [
            {"loc": [str(part) for part in error["loc"]], "msg": error["msg"]}
            for error in exc.errors()
        ]
        return error_response(
            422, ErrorCode.INVALID_REQUEST, "the request is not valid", details=details
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, ErrorCode.INVALID_REQUEST)
        return error_response(exc.status_code, code, str(exc.detail), exc.headers)
