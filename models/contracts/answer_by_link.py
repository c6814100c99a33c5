"""The rules of a flow that waits for one person's answer by an emailed link until it expires
(an invitation, an ownership offer, a primary change's objection window): the statuses it moves
through and how it refuses. Each such flow declares them beside its contract; the flow kit
applies them (docs/architecture.md, "The flow kit")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic
from typing import TypeVar

from models.errors import DomainError

StatusT = TypeVar("StatusT", bound=StrEnum)


@dataclass(frozen=True)
class AnswerRules(Generic[StatusT]):
    pending: StatusT  # while it waits
    lapsed: StatusT  # what a pending one reads past its expiry, even before its timer ran
    refused: StatusT  # its first record was refused: nothing was recorded
    cancelled: StatusT
    closed: Mapping[str, DomainError]  # how it refuses, by status, once it no longer waits
    invalid_link: DomainError
    not_recorded: DomainError  # an action came before its first record
    what: str  # what it is, in an error's words ("invitation")
