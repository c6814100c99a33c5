"""The error contract (docs/architecture.md): every refusal the service can give is declared once,
as a member of a `DomainError` enum, with its stable code, its HTTP status, a message for people
and, where repeating the request helps, a Retry-After in seconds.

Flows and activities raise `ApplicationError(message, type=<member>)`; the API turns the type
back into the member (`find`) and answers with its status; the OpenAPI responses list the codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Self


class DomainError(StrEnum):
    """Subclass per flow; each member is `code, HTTP status, message[, retry_after]`."""

    status: int
    message: str
    retry_after: int | None

    def __new__(cls, code: str, status: int, message: str, retry_after: int | None = None) -> Self:
        member = str.__new__(cls, code)
        member._value_ = code
        member.status = status
        member.message = message
        member.retry_after = retry_after
        return member


def all_errors() -> list[DomainError]:
    """Every declared error, across the flows and the API."""
    found: list[DomainError] = []
    pending = list(DomainError.__subclasses__())
    while pending:
        kind = pending.pop()
        found += list(kind)
        pending += kind.__subclasses__()
    return found


def find(code: str | None) -> DomainError | None:
    """The declared error with this code (a code may be shared by flows: one meaning)."""
    return next((error for error in all_errors() if error.value == code), None)


@dataclass(frozen=True)
class Refusal:
    """A declared error with the words that fit the case, from a rule both the API (a quick
    answer) and an activity (the authoritative check, under a lock) apply."""

    error: DomainError
    message: str
