"""Errors as JSON `{code, message}` with a stable code, from the one error contract
(`models/errors.py`, where the API's own refusals are declared with the flows').
One translator turns a flow's refusal into its HTTP answer; the OpenAPI responses list the codes
each endpoint can answer. Never a 500 for bad input."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from models.errors import ApiProblem
from models.errors import DomainError
from models.errors import FlowProblem
from models.errors import MailProblem
from models.errors import find


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ApiError(Exception):
    """A declared error as an HTTP answer; `message` (default: the declared one) may say more."""

    def __init__(
        self,
        problem: DomainError,
        message: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        self.status = problem.status
        self.code = problem.value
        self.message = message or problem.message
        super().__init__(self.message)
        if problem.retry_after is not None:
            headers = {"Retry-After": str(problem.retry_after)} | (headers or {})
        self.headers = headers
        self.details = details


def refusal(err: WorkflowUpdateFailedError) -> ApiError:
    """A flow's refusal (an ApplicationError of a declared type) as its HTTP answer; anything
    else is raised again: it is a defect to see, not an answer to give."""
    cause = err.cause
    problem = find(cause.type) if isinstance(cause, ApplicationError) else None
    if problem is None or not isinstance(cause, ApplicationError):
        raise err
    extra = cause.details[0] if cause.details else None
    # A flow may say when to come back (a cooldown) or what exactly was wrong (agreements).
    headers = {"Retry-After": str(extra)} if problem.status == 429 and extra else None
    details = extra if isinstance(extra, list) else None
    return ApiError(problem, cause.message, headers=headers, details=details)


def error_response(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    details: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    body = ErrorBody(code=code, message=message, details=details)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def problem_response(problem: DomainError, message: str | None = None) -> JSONResponse:
    error = ApiError(problem, message)
    return error_response(error.status, error.code, error.message, error.headers)


def responses(*problems: DomainError) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for the errors an endpoint can answer, with their codes by status."""
    by_status: dict[int, list[str]] = {}
    for problem in problems:
        by_status.setdefault(problem.status, []).append(f"`{problem.value}`")
    return {
        status: {"model": ErrorBody, "description": "One of: " + ", ".join(sorted(set(codes)))}
        for status, codes in sorted(by_status.items())
    }


# Every endpoint that takes a body can answer these; one that also mails someone, the mail limit.
BAD_BODY = (ApiProblem.INVALID_REQUEST, ApiProblem.PAYLOAD_TOO_LARGE)
MAILS = (*BAD_BODY, MailProblem.RATE_LIMITED)
NEEDS_KEY = (ApiProblem.MISSING_API_KEY, ApiProblem.INVALID_API_KEY)
# A Business's routes: the key, then the Business (`require_business`), then for changes the
# primary account acting for it (`ActingPrimary`).
BUSINESS_ERRORS = (*NEEDS_KEY, ApiProblem.BUSINESS_NOT_FOUND)
OWNER_ERRORS = (*BUSINESS_ERRORS, ApiProblem.NOT_PRIMARY_ACCOUNT)
_HTTP_PROBLEMS = {
    404: ApiProblem.NOT_FOUND,
    405: ApiProblem.METHOD_NOT_ALLOWED,
    413: ApiProblem.PAYLOAD_TOO_LARGE,
}


def document_common_answers(app: FastAPI) -> None:
    """What every route can answer, said once in the OpenAPI document (by construction, so a
    route declares only its own refusals): FastAPI documents a 422 of its own shape for a route
    with parameters, where this service answers `invalid_request` in its error body; and any
    route that reads the database or calls Temporal may find it down (503)."""
    generate = app.openapi

    def answer(*problems: DomainError) -> dict[str, Any]:
        codes = ", ".join(f"`{problem.value}`" for problem in problems)
        error_body = {"$ref": "#/components/schemas/ErrorBody"}
        return {
            "description": f"One of: {codes}",
            "content": {"application/json": {"schema": error_body}},
        }

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        unavailable = answer(
            ApiProblem.DATABASE_UNAVAILABLE, ApiProblem.TEMPORAL_UNAVAILABLE, FlowProblem.FLOW_STUCK
        )
        for operations in schema["paths"].values():
            for operation in operations.values():
                answers = operation.setdefault("responses", {})
                if answers.get("422", {}).get("description") == "Validation Error":
                    answers["422"] = answer(ApiProblem.INVALID_REQUEST)
                answers.setdefault("503", unavailable)
        for unused in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(unused, None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


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
        problem = ApiProblem.INVALID_REQUEST
        return error_response(problem.status, problem.value, problem.message, details=details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI's answer to a body it cannot read (not UTF-8)
            problem = ApiProblem.INVALID_REQUEST
            return error_response(problem.status, problem.value, "the body is not UTF-8 JSON")
        problem = _HTTP_PROBLEMS.get(exc.status_code, ApiProblem.INVALID_REQUEST)
        return error_response(exc.status_code, problem.value, str(exc.detail), exc.headers)
